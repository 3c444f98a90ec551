// Command jsdurables creates, lists or waits for N durable consumers on
// one stream of a running server, printing how long it took; used by
// scripts/bench-js-durables to compare sluice with nats-server.
//
//	jsdurables -s URL create N | list | ready N
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	url := flag.String("s", nats.DefaultURL, "server URL")
	flag.Parse()
	if err := run(*url, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "jsdurables:", err)
		os.Exit(1)
	}
}

func run(url string, args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("usage: jsdurables -s URL create N | list | ready N")
	}
	deadline := time.Now().Add(2 * time.Minute)
	var nc *nats.Conn
	var err error
	for {
		if nc, err = nats.Connect(url); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	n := 0
	if len(args) > 1 {
		if n, err = strconv.Atoi(args[1]); err != nil {
			return err
		}
	}
	start := time.Now()
	switch args[0] {
	case "create":
		st, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "durables", Subjects: []string{"durables.>"}, Storage: jetstream.FileStorage})
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if _, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{Durable: "d" + strconv.Itoa(i), AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
				return fmt.Errorf("consumer %d: %w", i, err)
			}
		}
	case "list":
		st, err := js.Stream(ctx, "durables")
		if err != nil {
			return err
		}
		l := st.ListConsumers(ctx)
		for range l.Info() {
			n++
		}
		if err := l.Err(); err != nil {
			return err
		}
	case "ready":
		// The server answers the last consumer's info: it has recovered.
		for {
			st, err := js.Stream(ctx, "durables")
			if err == nil {
				if _, err = st.Consumer(ctx, "d"+strconv.Itoa(n-1)); err == nil {
					break
				}
			}
			if time.Now().After(deadline) {
				return err
			}
			time.Sleep(5 * time.Millisecond)
		}
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	fmt.Printf("%s %d: %.2fs\n", args[0], n, time.Since(start).Seconds())
	return nil
}
