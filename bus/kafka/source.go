package kafkabus

import (
	"bytes"
	"context"

	"github.com/IBM/sarama"
)

// source describes the batch a process call was handed: Consumer attaches
// it to the context, DeadLetters reads it to say where a letter came from.
// The fanout.DeadLetters interface stays as it is.
type source struct {
	topic     string
	partition int32
	msgs      []*sarama.ConsumerMessage
}

type sourceKey struct{}

func withSource(ctx context.Context, s *source) context.Context {
	return context.WithValue(ctx, sourceKey{}, s)
}

func sourceFrom(ctx context.Context) *source {
	s, _ := ctx.Value(sourceKey{}).(*source)
	return s
}

func (s *source) len() int {
	if s == nil {
		return 0
	}
	return len(s.msgs)
}

// find returns the index of the unused message whose value is raw: the same
// backing array if the processor passed the slice through (the usual case),
// else equal bytes; -1 if none.
func (s *source) find(raw []byte, used []bool) int {
	if s == nil {
		return -1
	}
	if len(raw) > 0 {
		for i, m := range s.msgs {
			if !used[i] && len(m.Value) == len(raw) && &m.Value[0] == &raw[0] {
				return i
			}
		}
	}
	for i, m := range s.msgs {
		if !used[i] && bytes.Equal(m.Value, raw) {
			return i
		}
	}
	return -1
}
