package objcmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli/cmdutil"
)

// counting advances a progress bar as bytes pass.
type counting struct {
	r io.Reader
	t *cmdutil.Tracker
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.t.Increment(int64(n))
	return n, err
}

func parseHeaders(hs []string) (nats.Header, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	h := nats.Header{}
	for _, kv := range hs {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, cmdutil.FlagErrorf("--header %q must be KEY:VALUE", kv)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return h, nil
}

func newPut(f *cmdutil.Factory) *cobra.Command {
	var (
		name, desc      string
		hdrs            []string
		chunk           uint32
		force, progress bool
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "put BUCKET [FILE]",
		Short: "Store a file (or stdin) as an object",
		Long: `Store FILE, or stdin when FILE is absent or "-" (then --name is needed),
in chunks. An object of the same name is replaced, after a confirmation
on a terminal (--force otherwise). A failed put leaves the bucket as it was.`,
		Example: `  sluice obj put FILES ./report.pdf --description "Q3 report"
  tar c dir | sluice obj put FILES --name dir.tar`,
		Args: cmdutil.RangeArgs(1, 2, "BUCKET", "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := argOr(args, 1)
			if file == "-" {
				file = ""
			}
			objName := name
			if objName == "" {
				objName = filepath.Clean(file)
			}
			if file == "" && name == "" {
				return cmdutil.FlagErrorf("--name is required when reading from stdin")
			}
			h, err := parseHeaders(hdrs)
			if err != nil {
				return err
			}
			var in io.Reader = f.IO.In
			var size int64 = -1
			if file != "" {
				fh, err := os.Open(file)
				if err != nil {
					return cmdutil.WithHint(cmdutil.ExitNotFound, fmt.Errorf("cannot read %s: %v", file, errors.Unwrap(err)), "")
				}
				defer fh.Close()
				st, err := fh.Stat()
				if err != nil {
					return err
				}
				if st.IsDir() {
					return cmdutil.FlagErrorf("%s is a directory; put a file, or a tar of it through stdin", file)
				}
				in, size = fh, st.Size()
			}
			s, o, cancel, err := openStore(cmd, f, true, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			if old, err := o.GetInfo(s.ctx, objName); err == nil && !force {
				if err := f.ConfirmDestructive(false, fmt.Sprintf("Replace existing object %s > %s (%s)", args[0], old.Name, cmdutil.IBytes(old.Size))); err != nil {
					return err
				}
			}
			meta := jetstream.ObjectMeta{Name: objName, Description: desc, Headers: h}
			if cmd.Flags().Changed("chunk-size") {
				if chunk == 0 {
					return cmdutil.FlagErrorf("--chunk-size must be positive")
				}
				meta.Opts = &jetstream.ObjectMetaOptions{ChunkSize: chunk}
			}
			var p *cmdutil.Progress
			if progress {
				p = f.NewProgress()
			}
			tr := p.Track(objName, max(size, 0))
			if p != nil {
				in = &counting{r: in, t: tr}
			}
			info, err := o.Put(s.ctx, meta, in)
			tr.Done()
			p.Stop()
			if err != nil {
				return Err(err, args[0], objName)
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, info)
			}
			showObject(f, info)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "store the object under `NAME` (default: the file's path)")
	fl.StringVar(&desc, "description", "", "a description for the object")
	fl.StringSliceVarP(&hdrs, "header", "H", nil, "add a header as `KEY:VALUE` (repeatable)")
	fl.Uint32Var(&chunk, "chunk-size", 128*1024, "chunk size in bytes")
	fl.BoolVar(&progress, "progress", true, "show a progress bar on a terminal (--progress=false to hide)")
	addForce(cmd, &force, "replace")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newGet(f *cmdutil.Factory) *cobra.Command {
	var (
		output          string
		force, progress bool
	)
	cmd := &cobra.Command{
		Use:   "get BUCKET NAME",
		Short: "Fetch an object to a file or stdout, verifying its digest",
		Long: `Fetch object NAME into the file --output (default: the object's base name
in the current directory; "-" is stdout). The data goes to a temporary file
renamed into place only when the SHA-256 digest matches, so a corrupt object
(exit status 9) never leaves a file behind.`,
		Args: cmdutil.ExactArgs(2, "BUCKET", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			bucket, name := args[0], args[1]
			s, o, cancel, err := openStore(cmd, f, true, bucket)
			defer cancel()
			if err != nil {
				return err
			}
			res, err := o.Get(s.ctx, name)
			if err != nil {
				return Err(err, bucket, name)
			}
			defer res.Close()
			info, err := res.Info()
			if err != nil {
				return Err(err, bucket, name)
			}
			dest := output
			if dest == "" {
				dest = filepath.Base(info.Name)
			}
			var p *cmdutil.Progress
			if progress && dest != "-" {
				p = f.NewProgress()
			}
			tr := p.Track(name, int64(info.Size))
			var in io.Reader = res
			if p != nil {
				in = &counting{r: res, t: tr}
			}
			if dest == "-" {
				if _, err := io.Copy(f.IO.Out, in); err != nil {
					return Err(err, bucket, name)
				}
				return nil
			}
			if _, err := os.Stat(dest); err == nil && !force {
				if err := f.ConfirmDestructive(false, fmt.Sprintf("Replace existing file %s", dest)); err != nil {
					return err
				}
			}
			err = writeFile(dest, in)
			tr.Done()
			p.Stop()
			if err != nil {
				return Err(err, bucket, name)
			}
			fmt.Fprintf(f.IO.ErrOut, "Wrote: %s bytes to %s\n", cmdutil.Comma(int64(info.Size)), dest)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "O", "", "write to `FILE` (\"-\" for stdout)")
	cmd.Flags().BoolVar(&progress, "progress", true, "show a progress bar on a terminal (--progress=false to hide)")
	addForce(cmd, &force, "overwrite an existing file")
	return cmd
}

// writeFile copies in to a temporary file beside dest and renames it over
// dest only when the copy (and so the digest check at its end) succeeded.
func writeFile(dest string, in io.Reader) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func newDel(f *cmdutil.Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "del BUCKET [NAME]",
		Short: "Delete an object, or a whole bucket",
		Long:  `Delete object NAME and its chunks. Without NAME the whole bucket is removed, as 'sluice obj rm' does.`,
		Args:  cmdutil.RangeArgs(1, 2, "BUCKET", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return removeBucket(cmd, f, args[0], force)
			}
			s, o, cancel, err := openStore(cmd, f, false, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			if _, err := o.GetInfo(s.ctx, args[1]); err != nil {
				return Err(err, args[0], args[1])
			}
			if err := f.ConfirmDestructive(force, fmt.Sprintf("Really delete object %s > %s", args[0], args[1])); err != nil {
				return err
			}
			if err := o.Delete(s.ctx, args[1]); err != nil {
				return Err(err, args[0], args[1])
			}
			fmt.Fprintf(f.IO.ErrOut, "Deleted object %s > %s\n", args[0], args[1])
			return nil
		},
	}
	addForce(cmd, &force, "delete")
	return cmd
}

func showObject(f *cmdutil.Factory, i *jetstream.ObjectInfo) {
	k := cmdutil.NewKV(fmt.Sprintf("Object information for %s > %s", i.Bucket, i.Name))
	k.AddIf("Description", i.Description)
	k.Add("Size", cmdutil.IBytes(i.Size))
	k.Add("Modification Time", i.ModTime.Local().Format(time.RFC1123))
	k.Add("Chunks", i.Chunks)
	k.AddIf("Digest", i.Digest)
	if i.Deleted {
		k.Add("Deleted", true)
	}
	if i.Opts != nil && i.Opts.Link != nil {
		if i.Opts.Link.Name == "" {
			k.Add("Link To Bucket", i.Opts.Link.Bucket)
		} else {
			k.Add("Link To", i.Opts.Link.Bucket+" > "+i.Opts.Link.Name)
		}
	}
	keys := make([]string, 0, len(i.Headers))
	for h := range i.Headers {
		keys = append(keys, h)
	}
	sort.Strings(keys)
	for _, h := range keys {
		k.Add("Header "+h, strings.Join(i.Headers[h], ", "))
	}
	k.Write(f.IO.Out)
}

func newInfo(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "info BUCKET [NAME]",
		Aliases: []string{"show", "i"},
		Short:   "Show a bucket, or one object's metadata",
		Args:    cmdutil.RangeArgs(1, 2, "BUCKET", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, o, cancel, err := openStore(cmd, f, false, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				return showStatus(s, o, asJSON)
			}
			i, err := o.GetInfo(s.ctx, args[1])
			if err != nil {
				return Err(err, args[0], args[1])
			}
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, i)
			}
			showObject(f, i)
			return nil
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func newLs(f *cmdutil.Factory) *cobra.Command {
	var asJSON, namesOnly bool
	cmd := &cobra.Command{
		Use:     "ls [BUCKET]",
		Aliases: []string{"list"},
		Short:   "List the buckets, or the objects of a bucket",
		Args:    cmdutil.RangeArgs(0, 1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, cancel, err := open(cmd, f, false)
			defer cancel()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return listBuckets(s, namesOnly, asJSON)
			}
			o, err := s.store(args[0])
			if err != nil {
				return err
			}
			list, err := o.List(s.ctx)
			if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
				return Err(err, args[0], "")
			}
			sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
			if asJSON {
				return cmdutil.WriteJSON(f.IO.Out, append([]*jetstream.ObjectInfo{}, list...))
			}
			if len(list) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "No objects in bucket %s\n", args[0])
				return nil
			}
			t := cmdutil.NewTable(f.IO, "Bucket Contents")
			t.AddHeader("Name", "Size", "Time")
			for _, i := range list {
				t.AddRow(i.Name, cmdutil.IBytes(i.Size), i.ModTime.Local().Format(time.RFC3339))
			}
			t.AlignRight(1)
			t.Render()
			return nil
		},
	}
	cmd.Flags().BoolVarP(&namesOnly, "names", "n", false, "show only the bucket names")
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}

func listBuckets(s *session, namesOnly, asJSON bool) error {
	if namesOnly {
		names, err := s.names()
		if err != nil {
			return err
		}
		if asJSON {
			return cmdutil.WriteJSON(s.f.IO.Out, append([]string{}, names...))
		}
		for _, n := range names {
			fmt.Fprintln(s.f.IO.Out, n)
		}
		return nil
	}
	l := s.js.ObjectStores(s.ctx)
	var infos []*jetstream.StreamInfo
	for st := range l.Status() {
		infos = append(infos, st.(*jetstream.ObjectBucketStatus).StreamInfo())
	}
	if err := l.Error(); err != nil {
		return Err(err, "", "")
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Config.Name < infos[j].Config.Name })
	if asJSON {
		return cmdutil.WriteJSON(s.f.IO.Out, append([]*jetstream.StreamInfo{}, infos...))
	}
	if len(infos) == 0 {
		fmt.Fprintln(s.f.IO.ErrOut, "No object store buckets found")
		return nil
	}
	t := cmdutil.NewTable(s.f.IO, "Object Store Buckets")
	t.AddHeader("Bucket", "Description", "Created", "Size", "Last Update")
	for _, si := range infos {
		t.AddRow(strings.TrimPrefix(si.Config.Name, "OBJ_"), si.Config.Description, si.Created.Local().Format("2006-01-02 15:04:05"),
			cmdutil.IBytes(si.State.Bytes), si.State.LastTime.Local().Format("2006-01-02 15:04:05"))
	}
	t.AlignRight(3)
	t.Render()
	return nil
}

func newWatch(f *cmdutil.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "watch BUCKET",
		Short: "Show a bucket's changes as they happen",
		Args:  cmdutil.ExactArgs(1, "BUCKET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, o, cancel, err := openStore(cmd, f, true, args[0])
			defer cancel()
			if err != nil {
				return err
			}
			w, err := o.Watch(s.ctx, jetstream.IncludeHistory())
			if err != nil {
				return Err(err, args[0], "")
			}
			defer w.Stop()
			lines := cmdutil.NewJSONLines(f.IO.Out)
			for {
				select {
				case <-s.ctx.Done():
					return nil
				case i, ok := <-w.Updates():
					if !ok {
						return nil
					}
					if i == nil {
						if !asJSON {
							fmt.Fprintln(f.IO.ErrOut, "Watching for changes")
						}
						continue
					}
					if asJSON {
						if err := lines.Write(i); err != nil {
							return err
						}
						continue
					}
					op := "PUT"
					if i.Deleted {
						op = "DEL"
					}
					fmt.Fprintf(f.IO.Out, "[%s] %s %s > %s: %s bytes in %d chunks\n", i.ModTime.Local().Format(time.DateTime), op, i.Bucket, i.Name,
						cmdutil.Comma(int64(i.Size)), i.Chunks)
				}
			}
		},
	}
	cmdutil.AddJSONFlag(cmd, &asJSON)
	return cmd
}
