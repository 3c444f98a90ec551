// Package consumer is the delivery state machine of one JetStream
// consumer: what was delivered, what awaits an ack, what is due again, the
// queue of pull requests, push delivery with flow control and heartbeats,
// and the persisted state. It knows no sockets: it reads a store.Store,
// sends through the Env callbacks, and is driven by ProcessAck,
// ProcessPull and ProcessFlowControl, so it is tested with a memstore and a
// recording Env.
//
// One goroutine per consumer (run) delivers and fires timers. Ack-wait
// deadlines live in one heap with lazy invalidation (an entry counts only
// if the pending message still has that deadline), so there is one timer
// per consumer, never one per message.
//
// Locks: Consumer.mu only; it is never held while calling Env (sending,
// events, retention hooks), so the stream may call back into the consumer.
package consumer
