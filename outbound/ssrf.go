package outbound

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/orderly-oms/orderly"
)

// Webhook targets are chosen by API users, so Orderly must not be made to
// post to itself or to the network behind it (SSRF). A target is refused
// when its host resolves to a loopback, private, link-local, unspecified,
// multicast or otherwise non-public address — when the subscription is
// made (CheckURL) and again on every connection (the dialer's Control
// hook), since DNS can change between the two. AllowPrivate (the
// ORDERLY_ALLOW_PRIVATE_WEBHOOKS=1 setting; tests) turns both checks off.

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT, shared address space
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	broadcast = netip.MustParseAddr("255.255.255.255")
)

// Blocked reports whether ip is an address webhooks must not reach.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		cgnat.Contains(ip) || thisNet.Contains(ip) || ip == broadcast
}

// CheckURL validates a webhook target: an absolute http or https URL whose
// host, unless allowPrivate, resolves only to public addresses. Its
// errors are KindInvalid on the field "url".
func CheckURL(ctx context.Context, raw string, allowPrivate bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return orderly.Invalid("url", "must be an absolute http or https URL")
	}
	if u.User != nil {
		return orderly.Invalid("url", "must not carry a user name or password")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return orderly.Invalid("url", "host %q does not resolve", host)
		}
	}
	for _, ip := range addrs {
		if Blocked(ip) {
			return orderly.Invalid("url", "host %q resolves to %s, a loopback, private, link-local or otherwise non-public address", host, ip.Unmap())
		}
	}
	return nil
}

// errBlocked is what a connection to a refused address fails with.
type errBlocked struct{ addr string }

func (e errBlocked) Error() string {
	return fmt.Sprintf("refusing to connect to %s: not a public address", e.addr)
}

// NewHTTPClient returns the client deliveries are posted with: a timeout,
// no proxy, no redirects followed (a 3xx is a failed attempt), and unless
// allowPrivate a dialer that refuses non-public addresses after DNS
// resolution.
func NewHTTPClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || Blocked(ip) {
				return errBlocked{address}
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
