package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/orderly-oms/orderly"
	"github.com/orderly-oms/orderly/store"
)

// KindNATSPublish is the job that publishes one event to NATS JetStream.
const KindNATSPublish = "nats.publish"

// StreamName and SubjectPrefix are where events go: stream ORDERLY on
// subjects orderly.<event type>, e.g. orderly.order.created.
const (
	StreamName    = "ORDERLY"
	SubjectPrefix = "orderly."
)

// publishArgs are a KindNATSPublish job's arguments.
type publishArgs struct {
	EventID string          `json:"event_id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// PublishJob returns the job that publishes e with payload.
func PublishJob(e *orderly.Event, payload []byte, now time.Time) *store.Job {
	return NewJob(KindNATSPublish, publishArgs{EventID: e.ID, Type: e.Type, Payload: payload}, now)
}

// Publisher publishes events to JetStream: the KindNATSPublish handler.
// Each message carries the event id as Nats-Msg-Id, so the stream drops a
// second publish of one event within its duplicate window (a retried job).
type Publisher struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// ConnectNATS connects to the NATS server at url and makes sure stream
// ORDERLY on orderly.> exists.
func ConnectNATS(ctx context.Context, url string) (*Publisher, error) {
	nc, err := nats.Connect(url, nats.Name("orderly"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("nats: connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	if _, err := js.Stream(ctx, StreamName); errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: StreamName, Subjects: []string{SubjectPrefix + ">"},
			Duplicates: 2 * time.Minute})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			nc.Close()
			return nil, fmt.Errorf("nats: create stream %s: %w", StreamName, err)
		}
	} else if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: stream %s: %w", StreamName, err)
	}
	return &Publisher{nc: nc, js: js}, nil
}

// Handle publishes one event and waits for the stream's acknowledgement.
func (p *Publisher) Handle(ctx context.Context, j *store.Job) error {
	var args publishArgs
	if err := json.Unmarshal(j.Args, &args); err != nil {
		return Permanent(fmt.Errorf("job args: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := p.js.Publish(ctx, SubjectPrefix+args.Type, args.Payload, jetstream.WithMsgID(args.EventID))
	return err
}

// Close drains and closes the connection.
func (p *Publisher) Close() { p.nc.Close() }
