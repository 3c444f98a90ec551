// Package streamcmd implements `sluice stream`: JetStream stream
// administration with natscli's verbs and flag names, against sluice or
// nats-server alike.
package streamcmd
