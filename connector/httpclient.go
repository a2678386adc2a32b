package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/orderly-oms/orderly"
)

// maxResponse bounds what a connector reads of a platform's response.
const maxResponse = 16 << 20

// StatusError turns a platform's non-2xx response into an error whose kind
// tells the job what to do: 429 and 5xx are KindUnavailable (retry later),
// 401 and 403 KindUnauthorized (the channel's credentials need fixing), 404
// KindNotFound, 409 KindConflict, 400 and 422 KindInvalid, anything else
// KindInternal. The message names the operation and carries the start of
// the platform's answer, which never holds our credentials.
func StatusError(resp *http.Response, op string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	kind := orderly.KindInternal
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		kind = orderly.KindUnavailable
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		kind = orderly.KindUnauthorized
	case resp.StatusCode == http.StatusNotFound:
		kind = orderly.KindNotFound
	case resp.StatusCode == http.StatusConflict:
		kind = orderly.KindConflict
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		kind = orderly.KindInvalid
	}
	msg := strings.TrimSpace(string(b))
	return orderly.Errorf(kind, "%s: %s: %s", op, resp.Status, msg)
}

// Reply is what DoJSON tells about a response besides its body: the status
// (0 when no response arrived) and the headers.
type Reply struct {
	Status int
	Header http.Header
}

// DoJSON sends a request with an optional JSON body and decodes a 2xx JSON
// answer into out (if out is not nil). Header values in h are added. A
// transport failure is KindUnavailable; a non-2xx answer is StatusError's.
func DoJSON(ctx context.Context, c *http.Client, method, url string, h http.Header, in, out any) (Reply, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return Reply{}, fmt.Errorf("%s %s: encode: %w", method, url, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return Reply{}, fmt.Errorf("%s: %w", method, err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return Reply{}, orderly.Errorf(orderly.KindUnavailable, "%s %s: %v", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	reply := Reply{Status: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return reply, StatusError(resp, method+" "+req.URL.Path)
	}
	if out != nil {
		dec := json.NewDecoder(io.LimitReader(resp.Body, maxResponse))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return reply, orderly.Errorf(orderly.KindUnavailable, "%s %s: bad response: %v", method, req.URL.Path, err)
		}
	}
	return reply, nil
}
