package httpapi

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/orderly-oms/orderly/channel"
	"github.com/orderly-oms/orderly/store"
)

// httpMetrics are the handler's Prometheus metrics.
type httpMetrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

// newHTTPMetrics registers the handler's metrics, the database pool
// collector and the Go runtime and process collectors on reg. Collectors
// already registered there (a second handler on the same registry) are
// reused, not registered twice.
func newHTTPMetrics(reg *prometheus.Registry, st store.Store, version string) *httpMetrics {
	m := &httpMetrics{registry: reg}
	m.requests = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderly_http_requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"route", "status"}))
	m.duration = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "orderly_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"}))
	m.webhooks = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderly_webhooks_total",
		Help: "Inbound webhook deliveries, by channel kind and outcome (created, updated, duplicate, ignored, unauthorized, not_found, too_large, invalid, error).",
	}, []string{"kind", "outcome"}))
	build := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "orderly_build_info",
		Help: "Always 1; the version label names the running build.",
	}, []string{"version"}))
	build.WithLabelValues(version).Set(1)
	register(reg, &poolCollector{st: st})
	register(reg, collectors.NewGoCollector())
	register(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts one served request.
func (m *httpMetrics) observe(route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// webhook counts one inbound webhook delivery. A kind that is not a
// channel kind (the path is the caller's) is counted as "unknown", so the
// label's values stay few.
func (m *httpMetrics) webhook(kind channel.Kind, outcome string) {
	k := string(kind)
	if !kind.Valid() {
		k = "unknown"
	}
	m.webhooks.WithLabelValues(k, outcome).Inc()
}

// register registers c on reg, or returns the equal collector registered
// before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// Two different metrics with one name is a programming error.
		panic("httpapi: register metric: " + err.Error())
	}
	return c
}

// OrderCreatedHook returns a function to set as service.Service's
// OnOrderCreated: it counts committed orders per channel in
// orderly_orders_created_total, registered on reg. It lives on the service
// rather than in the HTTP layer because orders also arrive by webhook,
// import and job. Pass the same registry as Config.Registry so that
// /metrics serves it:
//
//	reg := prometheus.NewRegistry()
//	svc.OnOrderCreated = httpapi.OrderCreatedHook(reg)
//	h := httpapi.NewHandler(svc, httpapi.Config{Registry: reg, …})
func OrderCreatedHook(reg prometheus.Registerer) func(channel string) {
	c := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderly_orders_created_total",
		Help: "Orders captured, by channel (repeats of a stored channel order are not counted).",
	}, []string{"channel"}))
	return func(channel string) { c.WithLabelValues(channel).Inc() }
}

// poolCollector reports the store's connection pool at each scrape.
type poolCollector struct {
	st store.Store
}

var (
	poolMaxOpen = prometheus.NewDesc("orderly_db_pool_max_open_connections",
		"Maximum number of open connections to the database.", []string{"backend"}, nil)
	poolOpen = prometheus.NewDesc("orderly_db_pool_open_connections",
		"Open connections to the database, in use or idle.", []string{"backend"}, nil)
	poolInUse = prometheus.NewDesc("orderly_db_pool_in_use_connections",
		"Connections currently in use.", []string{"backend"}, nil)
	poolIdle = prometheus.NewDesc("orderly_db_pool_idle_connections",
		"Idle connections.", []string{"backend"}, nil)
	poolWaits = prometheus.NewDesc("orderly_db_pool_waits_total",
		"Times a caller had to wait for a connection.", []string{"backend"}, nil)
	poolWaitSeconds = prometheus.NewDesc("orderly_db_pool_wait_seconds_total",
		"Total time callers waited for a connection.", []string{"backend"}, nil)
)

// Describe sends the pool metrics' descriptions.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolMaxOpen, poolOpen, poolInUse, poolIdle, poolWaits, poolWaitSeconds} {
		ch <- d
	}
}

// Collect reads the pool's statistics now.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.st.PoolStats()
	b := c.st.Backend()
	ch <- prometheus.MustNewConstMetric(poolMaxOpen, prometheus.GaugeValue, float64(s.MaxOpen), b)
	ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.Open), b)
	ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.InUse), b)
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.Idle), b)
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), b)
	ch <- prometheus.MustNewConstMetric(poolWaitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds(), b)
}
