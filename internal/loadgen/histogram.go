package loadgen

import (
	"math"
	"slices"
	"time"
)

// Latencies records request durations exactly: every duration is kept
// (8 bytes each, so a million requests take 8 MB) and quantiles are
// computed on the sorted set, with no bucketing error. The zero value is
// ready to use; it is not safe for concurrent use — give each worker its
// own and Merge them.
type Latencies struct {
	d      []time.Duration
	sorted bool
}

// Record adds one duration.
func (l *Latencies) Record(d time.Duration) {
	l.d = append(l.d, d)
	l.sorted = false
}

// Merge adds every duration of o.
func (l *Latencies) Merge(o *Latencies) {
	l.d = append(l.d, o.d...)
	l.sorted = false
}

// Count returns the number of durations recorded.
func (l *Latencies) Count() int { return len(l.d) }

// Quantile returns the q-quantile (0 < q ≤ 1) by the nearest-rank method:
// the smallest recorded duration such that at least q of all durations are
// less than or equal to it. Quantile(0.5) is the median, Quantile(1) the
// maximum. It returns 0 when nothing was recorded.
func (l *Latencies) Quantile(q float64) time.Duration {
	n := len(l.d)
	if n == 0 {
		return 0
	}
	if !l.sorted {
		slices.Sort(l.d)
		l.sorted = true
	}
	rank := int(math.Ceil(q * float64(n)))
	rank = max(1, min(n, rank))
	return l.d[rank-1]
}

// Max returns the longest duration recorded, or 0.
func (l *Latencies) Max() time.Duration { return l.Quantile(1) }

// Summary returns p50, p95, p99 and max in milliseconds.
func (l *Latencies) Summary() LatencySummary {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
	return LatencySummary{P50: ms(l.Quantile(0.50)), P95: ms(l.Quantile(0.95)), P99: ms(l.Quantile(0.99)), Max: ms(l.Max())}
}

// LatencySummary is the latency part of a report, in milliseconds (to the
// microsecond).
type LatencySummary struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}
