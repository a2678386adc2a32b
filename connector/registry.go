package connector

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/channel"
)

// Config is what a connector needs to talk to one channel. It is built by
// the caller from the channel's record; secrets in it are never logged.
type Config struct {
	// Channel is the channel's code, for messages.
	Channel string
	// Secret verifies the channel's inbound webhooks (channel.Channel.Secret).
	Secret string
	// BaseURL is the platform's API root for this channel, e.g.
	// "https://shop.myshopify.com" or "https://sellingpartnerapi-eu.amazon.com".
	BaseURL string
	// Settings holds the kind-specific settings and credentials (access
	// tokens, consumer keys, marketplace ids); each connector package
	// documents its keys.
	Settings map[string]string
	// HTTPClient is used for every request; nil means a client with a 30 s
	// timeout.
	HTTPClient *http.Client
}

// Client returns c.HTTPClient or a default client with a timeout.
func (c Config) Client() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultClient
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Factory opens a connector for one channel.
type Factory func(cfg Config) (Connector, error)

// Registry maps channel kinds to the factories of their connectors. The
// program's wiring registers each connector package explicitly (no init
// side effects); the service opens a connector per channel with Open.
// A Registry is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	factories map[channel.Kind]Factory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[channel.Kind]Factory{}}
}

// Register adds the factory for kind. Registering a kind twice, an invalid
// kind or a nil factory panics: it is a wiring bug.
func (r *Registry) Register(kind channel.Kind, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !kind.Valid() || f == nil {
		panic("connector: invalid registration for kind " + string(kind))
	}
	if _, dup := r.factories[kind]; dup {
		panic("connector: kind " + string(kind) + " registered twice")
	}
	r.factories[kind] = f
}

// Open returns the connector for kind, configured by cfg. A kind without a
// registered connector is a KindNotFound error.
func (r *Registry) Open(kind channel.Kind, cfg Config) (Connector, error) {
	r.mu.RLock()
	f := r.factories[kind]
	r.mu.RUnlock()
	if f == nil {
		return nil, orderly.Errorf(orderly.KindNotFound, "no connector for channel kind %q", kind)
	}
	return f(cfg)
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []channel.Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ks := make([]channel.Kind, 0, len(r.factories))
	for k := range r.factories {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
