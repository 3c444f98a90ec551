package authutil

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// ExportFlags are shared by `add export` and `edit export`.
type ExportFlags struct {
	Name, Subject, Latency, Sampling, ResponseType, Description, InfoURL string
	Service, Private, Advertise, AllowTrace                              bool
	Threshold                                                            time.Duration
	TokenPos                                                             uint
}

// AddFlags defines the flags.
func (e *ExportFlags) AddFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&e.Name, "name", "n", "", "export name (default: the subject)")
	fl.StringVar(&e.Subject, "subject", "", "subject exported")
	fl.BoolVarP(&e.Service, "service", "r", false, "export a service (requests and replies), not a stream")
	fl.BoolVarP(&e.Private, "private", "p", false, "importers need an activation token ('generate activation')")
	fl.StringVar(&e.ResponseType, "response-type", "", "service reply type: Singleton, Stream or Chunked")
	fl.DurationVar(&e.Threshold, "response-threshold", 0, "how long a service may take to reply")
	fl.StringVar(&e.Latency, "latency", "", "subject to publish service latency measurements to")
	fl.StringVar(&e.Sampling, "sampling", "", "latency sampling: a percentage 1-100 or \"header\"")
	fl.UintVar(&e.TokenPos, "account-token-position", 0, "position (from 1) of the importer's account key in the subject")
	fl.BoolVar(&e.Advertise, "advertise", false, "advertise the export")
	fl.BoolVar(&e.AllowTrace, "allow-trace", false, "let message traces cross the export")
	fl.StringVar(&e.Description, "description", "", "description")
	fl.StringVar(&e.InfoURL, "info-url", "", "link to documentation")
}

// Apply sets the given flags on ex.
func (e *ExportFlags) Apply(cmd *cobra.Command, ex *jwt.Export) error {
	ch := cmd.Flags().Changed
	if ch("subject") {
		ex.Subject = jwt.Subject(e.Subject)
	}
	if ch("name") {
		ex.Name = e.Name
	}
	if ex.Name == "" {
		ex.Name = string(ex.Subject)
	}
	if ch("service") {
		ex.Type = jwt.Stream
		if e.Service {
			ex.Type = jwt.Service
		}
	}
	if ch("private") {
		ex.TokenReq = e.Private
	}
	if ch("response-type") {
		if ex.Type != jwt.Service {
			return cmdutil.FlagErrorf("--response-type is for service exports (--service)")
		}
		switch strings.ToLower(e.ResponseType) {
		case "singleton":
			ex.ResponseType = jwt.ResponseTypeSingleton
		case "stream":
			ex.ResponseType = jwt.ResponseTypeStream
		case "chunked":
			ex.ResponseType = jwt.ResponseTypeChunked
		default:
			return cmdutil.FlagErrorf("--response-type %q: want Singleton, Stream or Chunked", e.ResponseType)
		}
	}
	if ch("response-threshold") {
		ex.ResponseThreshold = e.Threshold
	}
	if ch("latency") || ch("sampling") {
		if ex.Type != jwt.Service {
			return cmdutil.FlagErrorf("--latency is for service exports (--service)")
		}
		if ex.Latency == nil {
			ex.Latency = &jwt.ServiceLatency{Sampling: 100}
		}
		if ch("latency") {
			ex.Latency.Results = jwt.Subject(e.Latency)
		}
		if ch("sampling") {
			if strings.EqualFold(e.Sampling, "header") {
				ex.Latency.Sampling = jwt.Headers
			} else {
				var n int
				if _, err := fmt.Sscan(e.Sampling, &n); err != nil || n < 1 || n > 100 {
					return cmdutil.FlagErrorf("--sampling %q: want 1-100 or header", e.Sampling)
				}
				ex.Latency.Sampling = jwt.SamplingRate(n)
			}
		}
		if ex.Latency.Results == "" {
			return cmdutil.FlagErrorf("--sampling needs --latency SUBJECT")
		}
	}
	if ch("account-token-position") {
		ex.AccountTokenPosition = e.TokenPos
	}
	if ch("advertise") {
		ex.Advertise = e.Advertise
	}
	if ch("allow-trace") {
		ex.AllowTrace = e.AllowTrace
	}
	if ch("description") {
		ex.Description = e.Description
	}
	if ch("info-url") {
		ex.InfoURL = e.InfoURL
	}
	return nil
}
