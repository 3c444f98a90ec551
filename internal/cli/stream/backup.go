package streamcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
	"github.com/sluicehq/sluice/internal/cli/jsutil"
)

// natscli's backup directory: the server's snapshot archive as it was
// sent (stream.arc.s2 from servers 2.15 and newer, stream.tar.s2 from
// older ones) and backup.json holding the stream's config and state,
// written last, so an empty or missing backup.json marks an unfinished
// backup.
const (
	metaFile       = "backup.json"
	dataFile       = "stream.arc.s2"
	legacyDataFile = "stream.tar.s2"
)

// backupMeta is backup.json; the raw JSON keeps every field the server
// sent, known to nats.go or not.
type backupMeta struct {
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
}

type snapshotRequest struct {
	DeliverSubject string `json:"deliver_subject"`
	NoConsumers    bool   `json:"no_consumers,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	WindowSize     int    `json:"window_size,omitempty"`
	CheckMsgs      bool   `json:"jsck,omitempty"`
}

// dataFileFor picks the archive name natscli uses for a server version.
func dataFileFor(version string) string {
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	if major > 2 || major == 2 && minor >= 15 {
		return dataFile
	}
	return legacyDataFile
}

func newBackup(f *cmdutil.Factory) *cobra.Command {
	var (
		noProgress, check, consumers bool
		chunk, window                string
	)
	cmd := &cobra.Command{
		Use:     "backup STREAM DIRECTORY",
		Aliases: []string{"snapshot"},
		Short:   "Back up a stream to a directory, in natscli's format",
		Long: `Save a snapshot of STREAM (messages and, unless --consumers=false, its
consumers) in DIRECTORY, in the layout 'nats stream backup' writes, so
either tool restores what the other saved. --check asks the server to
verify the stream first. A progress bar is drawn on a terminal.`,
		Example: `  sluice stream backup ORDERS /backups/orders
  sluice stream restore /backups/orders`,
		Args: cmdutil.ExactArgs(2, "STREAM", "DIRECTORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, dir := args[0], args[1]
			req := snapshotRequest{NoConsumers: !consumers, CheckMsgs: check, ChunkSize: 128 * 1024}
			if chunk != "" {
				n, err := cmdutil.ParseBytes(chunk)
				if err != nil || n < 1024 || n > 1<<20 {
					return cmdutil.FlagErrorf("--chunk-size must be a size from 1KB to 1MB, not %q", chunk)
				}
				req.ChunkSize = int(n)
			}
			if window != "" {
				n, err := cmdutil.ParseBytes(window)
				if err != nil || n < 1024 || n > 32<<20 {
					return cmdutil.FlagErrorf("--window-size must be a size from 1KB to 32MB, not %q", window)
				}
				req.WindowSize = int(n)
			}
			meta := filepath.Join(dir, metaFile)
			if st, err := os.Stat(meta); err == nil && st.Size() > 0 {
				return cmdutil.FlagErrorf("DIRECTORY %s already holds a backup", dir)
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			if _, err := s.stream(&name); err != nil {
				return err
			}
			nc, _ := f.Conn()
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return fmt.Errorf("cannot create the backup directory: %w", err)
			}
			for _, p := range []string{meta, filepath.Join(dir, dataFile), filepath.Join(dir, legacyDataFile)} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
			data := filepath.Join(dir, dataFileFor(nc.ConnectedServerVersion()))
			start := time.Now()
			n, metaJSON, err := snapshot(cmd, f, nc, name, req, data, noProgress)
			if err != nil {
				os.Remove(data)
				return err
			}
			if err := os.WriteFile(meta, metaJSON, 0o600); err != nil {
				os.Remove(data)
				return fmt.Errorf("cannot write %s: %w", meta, err)
			}
			fmt.Fprintf(f.IO.Out, "Backed up stream %s to %s: %s in %s\n", name, dir, cmdutil.IBytes(uint64(n)), cmdutil.Duration(time.Since(start)))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&noProgress, "no-progress", false, "draw no progress bar")
	fl.BoolVar(&check, "check", false, "have the server check the stream's health first")
	fl.BoolVar(&consumers, "consumers", true, "include the consumers (--consumers=false leaves them out)")
	fl.StringVar(&chunk, "chunk-size", "", "size of the chunks the server sends (default 128KB)")
	fl.StringVar(&window, "window-size", "", "data the server sends before waiting for acknowledgments")
	return cmd
}

// snapshot asks for the snapshot and writes the archive to path. It
// returns the archive's size and the contents of backup.json.
func snapshot(cmd *cobra.Command, f *cmdutil.Factory, nc *nats.Conn, name string, req snapshotRequest, path string, noProgress bool) (int64, []byte, error) {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, nil, fmt.Errorf("cannot create %s: %w", path, err)
	}
	defer out.Close()
	req.DeliverSubject = nc.NewRespInbox()
	msgs := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(req.DeliverSubject, msgs)
	if err != nil {
		return 0, nil, err
	}
	defer sub.Unsubscribe()
	sub.SetPendingLimits(-1, -1)
	raw, err := Request(cmd, f, "STREAM.SNAPSHOT."+name, req)
	if err != nil {
		return 0, nil, err
	}
	var meta backupMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return 0, nil, fmt.Errorf("the snapshot answer is not JSON: %w", err)
	}
	var state jetstream.StreamState
	json.Unmarshal(meta.State, &state)
	var bar *cmdutil.Tracker
	var p *cmdutil.Progress
	if !noProgress {
		p = f.NewProgress()
		bar = p.Track("Backup of "+name, int64(max(state.Bytes, 1)))
	}
	defer p.Stop()
	var written int64
	idle := time.NewTimer(max(f.Timeout(), 10*time.Second))
	defer idle.Stop()
	for {
		select {
		case <-cmd.Context().Done():
			return 0, nil, cmd.Context().Err()
		case <-idle.C:
			return 0, nil, &cmdutil.Error{Code: cmdutil.ExitTimeout, Err: fmt.Errorf("the server stopped sending the snapshot of %s", name)}
		case m := <-msgs:
			idle.Reset(max(f.Timeout(), 10*time.Second))
			if len(m.Data) == 0 {
				if status := m.Header.Get("Status"); status != "" && status != "204" {
					return 0, nil, fmt.Errorf("the server failed the snapshot: %s %s", status, m.Header.Get("Description"))
				}
				bar.Done()
				mj, err := json.MarshalIndent(meta, "", "  ")
				return written, mj, err
			}
			if m.Reply != "" {
				m.Respond(nil)
			}
			if _, err := out.Write(m.Data); err != nil {
				return 0, nil, fmt.Errorf("cannot write %s: %w", path, err)
			}
			written += int64(len(m.Data))
			bar.Increment(int64(len(m.Data)))
		}
	}
}

func newRestore(f *cmdutil.Factory) *cobra.Command {
	var (
		noProgress bool
		file       string
		cluster    string
		tags       []string
		replicas   int
	)
	cmd := &cobra.Command{
		Use:   "restore DIRECTORY",
		Short: "Restore a stream from a backup directory (natscli's format)",
		Long: `Restore the stream saved in DIRECTORY by 'sluice stream backup' or 'nats
stream backup'. The stream must not exist. --config restores it with
another configuration (the name may not change); --cluster, --tag and
--replicas change its placement.`,
		Args: cmdutil.ExactArgs(1, "DIRECTORY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if replicas < 0 || replicas > 5 {
				return cmdutil.FlagErrorf("--replicas must be from 1 to 5, not %d", replicas)
			}
			mb, err := os.ReadFile(filepath.Join(dir, metaFile))
			if err != nil || len(mb) == 0 {
				return cmdutil.FlagErrorf("DIRECTORY %s holds no finished backup (no %s)", dir, metaFile)
			}
			var meta backupMeta
			if err := json.Unmarshal(mb, &meta); err != nil || meta.Config == nil {
				return cmdutil.FlagErrorf("%s is not a backup description: %v", filepath.Join(dir, metaFile), err)
			}
			data, err := dataPath(dir)
			if err != nil {
				return err
			}
			var cfg map[string]any
			if err := json.Unmarshal(meta.Config, &cfg); err != nil {
				return cmdutil.FlagErrorf("%s: %v", metaFile, err)
			}
			name, _ := cfg["name"].(string)
			if file != "" {
				var alt map[string]any
				b, err := os.ReadFile(file)
				if err != nil {
					return cmdutil.FlagErrorf("--config: %v", err)
				}
				if err := json.Unmarshal(b, &alt); err != nil {
					return cmdutil.FlagErrorf("--config %s is not a stream configuration: %v", file, err)
				}
				if alt["name"] != name {
					return cmdutil.FlagErrorf("--config names stream %v, but the backup is of %s: a restore cannot rename", alt["name"], name)
				}
				cfg = alt
			}
			if cluster != "" || len(tags) > 0 {
				pl := map[string]any{}
				if cluster != "" {
					pl["cluster"] = cluster
				}
				if len(tags) > 0 {
					pl["tags"] = tags
				}
				cfg["placement"] = pl
			}
			if replicas > 0 {
				cfg["num_replicas"] = replicas
			}
			if meta.Config, err = json.Marshal(cfg); err != nil {
				return err
			}
			s, cancel, err := open(cmd, f)
			defer cancel()
			if err != nil {
				return err
			}
			if err := jsutil.ValidName("stream name in the backup", name); err != nil {
				return err
			}
			if _, err := s.js.Stream(s.ctx, name); err == nil {
				return cmdutil.WithHint(cmdutil.ExitError, fmt.Errorf("stream %s already exists", name),
					"remove it first with 'sluice stream rm %s'", name)
			} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
				return jsutil.Err(err, "stream", name)
			}
			start := time.Now()
			info, err := restore(cmd, f, name, meta, data, noProgress)
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Restored stream %s from %s in %s\n\n", name, dir, cmdutil.Duration(time.Since(start)))
			showInfo(f, info, true)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&noProgress, "no-progress", false, "draw no progress bar")
	fl.StringVar(&file, "config", "", "restore with the configuration in JSON `FILE`")
	fl.StringVar(&cluster, "cluster", "", "place the stream in `CLUSTER`")
	fl.StringSliceVar(&tags, "tag", nil, "place the stream on servers with this tag (repeatable)")
	fl.IntVar(&replicas, "replicas", 0, "number of replicas, instead of the backup's")
	return cmd
}

// dataPath finds the archive of a backup directory, refusing one that
// holds both names.
func dataPath(dir string) (string, error) {
	arc, legacy := filepath.Join(dir, dataFile), filepath.Join(dir, legacyDataFile)
	_, e1 := os.Stat(arc)
	_, e2 := os.Stat(legacy)
	switch {
	case e1 == nil && e2 == nil:
		return "", cmdutil.FlagErrorf("DIRECTORY %s holds both %s and %s", dir, dataFile, legacyDataFile)
	case e1 == nil:
		return arc, nil
	case e2 == nil:
		return legacy, nil
	}
	return "", cmdutil.FlagErrorf("DIRECTORY %s holds no snapshot archive (%s)", dir, dataFile)
}

// restore sends the archive in chunks and returns the restored stream.
func restore(cmd *cobra.Command, f *cmdutil.Factory, name string, meta backupMeta, path string, noProgress bool) (*jetstream.StreamInfo, error) {
	nc, err := f.Conn()
	if err != nil {
		return nil, err
	}
	in, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	raw, err := Request(cmd, f, "STREAM.RESTORE."+name, meta)
	if err != nil {
		return nil, err
	}
	var resp struct {
		DeliverSubject string `json:"deliver_subject"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil || resp.DeliverSubject == "" {
		return nil, fmt.Errorf("the server gave no subject to restore to: %s", raw)
	}
	var bar *cmdutil.Tracker
	if !noProgress {
		p := f.NewProgress()
		defer p.Stop()
		bar = p.Track("Restore of "+name, max(st.Size(), 1))
	}
	chunk := make([]byte, min(64*1024, int(nc.MaxPayload())))
	for {
		if err := cmd.Context().Err(); err != nil {
			return nil, err
		}
		n, err := in.Read(chunk)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		r, err := nc.RequestWithContext(cmd.Context(), resp.DeliverSubject, chunk[:n])
		if err != nil {
			return nil, jsutil.Err(err, "stream", name)
		}
		if len(r.Data) > 0 && bytes.Contains(r.Data, []byte(`"error"`)) {
			return nil, fmt.Errorf("the server refused the restore: %s", strings.TrimSpace(string(r.Data)))
		}
		bar.Increment(int64(n))
	}
	bar.Done()
	// The server now rebuilds the stream, which may take long.
	r, err := nc.Request(resp.DeliverSubject, nil, max(time.Hour, f.Timeout()))
	if err != nil {
		return nil, jsutil.Err(err, "stream", name)
	}
	var done struct {
		jetstream.StreamInfo
		Error *struct {
			Description string `json:"description"`
			ErrCode     int    `json:"err_code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Data, &done); err != nil {
		return nil, fmt.Errorf("the server's last answer is not JSON: %w", err)
	}
	if done.Error != nil {
		return nil, fmt.Errorf("the restore failed: %s (error %d)", done.Error.Description, done.Error.ErrCode)
	}
	return &done.StreamInfo, nil
}
