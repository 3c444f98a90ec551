package filestore

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

var (
	simSeeds = flag.Int("sim.seeds", 20, "number of seeds the crash simulation runs")
	simSeed  = flag.Int64("sim.seed", -1, "run the crash simulation for this seed only (replay)")
	simSteps = flag.Int("sim.steps", 600, "steps per simulation seed")
)

// TestSimulation drives a filestore on a FaultFS with a seeded random
// schedule of stores, removes, purges, syncs, crashes (power loss), clean
// restarts, injected I/O errors and bit flips, and checks after every
// crash and restart that no synced message is missing (unless a bit flip
// hit it), that nothing served differs from what was stored, and that a
// synced removal stays removed. A failing seed replays with -sim.seed.
func TestSimulation(t *testing.T) {
	if *simSeed >= 0 {
		if err := runSim(uint64(*simSeed), *simSteps, simCfg); err != nil {
			t.Fatalf("seed %d: %v", *simSeed, err)
		}
		return
	}
	for seed := range uint64(*simSeeds) {
		if err := runSim(seed, *simSteps, simCfg); err != nil {
			t.Fatalf("seed %d (replay: go test -run TestSimulation -sim.seed=%d): %v", seed, seed, err)
		}
	}
}

type simMsg struct {
	subj           string
	hdr, data      []byte
	durable        bool // a Sync succeeded after it was stored
	removed        bool
	removedDurable bool
	flipped        bool // a bit flip hit its record
}

type sim struct {
	rng  *rand.Rand
	fsys *vfs.FaultFS
	s    *Store
	cfg  store.Config
	opts Options
	msgs map[uint64]*simMsg
	log  []string
	// zblocks: sealed blocks are compressed (a step of its own).
	zblocks bool
	inject  struct {
		armed bool
		op    vfs.Op
		after int
	}
}

var simSubjects = []string{"a", "b.c", "b.d", "orders.1", "orders.2", "x.y.z"}

var simCfg = store.Config{Name: "SIM", SyncAlways: true}

// TestSimulationCoded runs the simulation with compressed, sealed records.
func TestSimulationCoded(t *testing.T) {
	cfg := simCfg
	cfg.Compression = store.S2Compression
	cfg.Encryption = &store.Encryption{Cipher: store.ChaChaPoly, Key: "sim"}
	for seed := range uint64(*simSeeds) {
		if err := runSim(seed, *simSteps, cfg); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// TestSimulationS2Blocks runs the simulation with s2 compression and no
// key: sealed blocks are compressed whole (in a step of their own, so the
// schedule stays replayable), and a bit flip costs its chunk.
func TestSimulationS2Blocks(t *testing.T) {
	cfg := simCfg
	cfg.Compression = store.S2Compression
	zsimStats = [2]int{}
	if *simSeed >= 0 {
		if err := runSim(uint64(*simSeed), *simSteps, cfg); err != nil {
			t.Fatalf("seed %d: %v", *simSeed, err)
		}
		return
	}
	for seed := range uint64(*simSeeds) {
		if err := runSim(seed, *simSteps, cfg); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	if zsimStats[0] == 0 || zsimStats[1] == 0 {
		t.Fatalf("no compressed block was recovered (%d) or hit by a flip (%d)", zsimStats[0], zsimStats[1])
	}
	t.Logf("compressed blocks recovered %d, chunks flipped %d", zsimStats[0], zsimStats[1])
}

// zsimStats counts compressed blocks recovered and chunks flipped.
var zsimStats [2]int

func runSim(seed uint64, steps int, cfg store.Config) (err error) {
	sm := &sim{
		rng:  rand.New(rand.NewPCG(seed, 99)),
		fsys: vfs.NewFaultFS(seed),
		cfg:  cfg,
		msgs: make(map[uint64]*simMsg),
	}
	sm.opts = Options{FS: sm.fsys, BlockSize: int64(256 + sm.rng.IntN(2048)), manualCompress: true}
	sm.zblocks = cfg.Compression == store.S2Compression && cfg.Encryption == nil
	sm.fsys.Inject(sm.fault)
	defer func() {
		if err != nil {
			tail := sm.log[max(0, len(sm.log)-25):]
			err = fmt.Errorf("%w\nlast steps:\n  %s\nblocks:\n%s", err, strings.Join(tail, "\n  "), sm.dump())
		}
		if sm.s != nil {
			sm.s.Stop()
		}
	}()
	if err := sm.reopen(); err != nil {
		return err
	}
	for step := range steps {
		if err := sm.step(step); err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
	}
	return nil
}

// fault fails the armed operation once.
func (sm *sim) fault(op vfs.Op, name string) error {
	if simTrace && (op == vfs.OpRename || op == vfs.OpRemove || op == vfs.OpSyncDir || op == vfs.OpOpen) {
		sm.logf("  op %d %s", op, name)
	}
	if !sm.inject.armed || op != sm.inject.op {
		return nil
	}
	if sm.inject.after > 0 {
		sm.inject.after--
		return nil
	}
	sm.inject.armed = false
	return vfs.ErrInjected
}

func (sm *sim) logf(format string, a ...any) { sm.log = append(sm.log, fmt.Sprintf(format, a...)) }

func (sm *sim) live() []uint64 {
	var out []uint64
	for seq, m := range sm.msgs {
		if !m.removed {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

func (sm *sim) step(step int) error {
	if sm.zblocks && sm.rng.IntN(8) == 0 {
		sm.logf("compress sealed blocks")
		sm.s.compressNow()
		return nil
	}
	r := sm.rng.IntN(100)
	switch {
	case r < 50:
		subj := simSubjects[sm.rng.IntN(len(simSubjects))]
		data := make([]byte, sm.rng.IntN(200))
		for i := range data {
			data[i] = byte(sm.rng.Uint32())
		}
		if sm.zblocks && len(data) > 8 {
			copy(data[8:], bytes.Repeat(data[:8], len(data)/8)) // compressible
		}
		var hdr []byte
		if sm.rng.IntN(4) == 0 {
			hdr = []byte("NATS/1.0\r\nk: v\r\n\r\n")
		}
		before := sm.s.State()
		seq, _, err := sm.s.Store(subj, hdr, data, 0)
		sm.logf("store %s %d bytes -> %d %v", subj, len(data), seq, err)
		if err != nil {
			if after := sm.s.State(); after.LastSeq != before.LastSeq || after.Msgs != before.Msgs {
				return fmt.Errorf("failed store changed the state: %+v -> %+v", before, after)
			}
			return sm.afterError(err)
		}
		if old := sm.msgs[seq]; old != nil && !old.removed {
			return fmt.Errorf("store reused live sequence %d", seq)
		}
		sm.msgs[seq] = &simMsg{subj: subj, hdr: hdr, data: data}
	case r < 62:
		live := sm.live()
		if len(live) == 0 {
			return nil
		}
		seq := live[sm.rng.IntN(len(live))]
		erase := sm.rng.IntN(4) == 0
		var ok bool
		var err error
		if erase {
			ok, err = sm.s.Erase(seq)
		} else {
			ok, err = sm.s.Remove(seq)
		}
		sm.logf("remove %d erase=%v -> %v %v", seq, erase, ok, err)
		if err != nil {
			sm.markGone()
			return sm.afterError(err)
		}
		if !ok && !sm.msgs[seq].flipped {
			return fmt.Errorf("remove %d: not found", seq)
		}
		sm.msgs[seq].removed = true
	case r < 65:
		o := store.PurgeOpts{Subject: []string{"", "b.*", "orders.>", "a"}[sm.rng.IntN(4)]}
		if sm.rng.IntN(2) == 0 {
			o.Keep = uint64(sm.rng.IntN(4))
		}
		n, err := sm.s.Purge(o)
		sm.logf("purge %+v -> %d %v", o, n, err)
		if err != nil {
			sm.markGone() // a failed purge may have removed part of it
			return sm.afterError(err)
		}
		return sm.markGone()
	case r < 67:
		st := sm.s.State()
		seq := st.FirstSeq + uint64(sm.rng.IntN(int(st.LastSeq-st.FirstSeq+2)))
		n, err := sm.s.Compact(seq)
		sm.logf("compact %d -> %d %v", seq, n, err)
		if err != nil {
			sm.markGone()
			return sm.afterError(err)
		}
		return sm.markGone()
	case r < 82:
		err := sm.s.Sync()
		sm.logf("sync -> %v", err)
		if err != nil {
			return sm.afterError(err)
		}
		for _, m := range sm.msgs {
			m.durable = true
			if m.removed {
				m.removedDurable = true
			}
		}
	case r < 86:
		sm.logf("crash")
		sm.fsys.Crash()
		return sm.reopen()
	case r < 88:
		err := sm.s.Stop()
		sm.logf("stop -> %v", err)
		if err == nil {
			for _, m := range sm.msgs {
				m.durable = true
				if m.removed {
					m.removedDurable = true
				}
			}
		}
		if sm.rng.IntN(2) == 0 {
			sm.logf("crash after stop")
			sm.fsys.Crash()
		}
		return sm.reopen()
	case r < 95:
		ops := []vfs.Op{vfs.OpWrite, vfs.OpWrite, vfs.OpSync, vfs.OpOpen, vfs.OpSyncDir}
		sm.inject.op = ops[sm.rng.IntN(len(ops))]
		sm.inject.after = sm.rng.IntN(3)
		sm.inject.armed = true
		sm.logf("arm fault op %d after %d", sm.inject.op, sm.inject.after)
	default:
		return sm.flip()
	}
	return nil
}

// afterError: an injected fault surfaced. Everything stored must still be
// readable; a failed store is crashed and reopened.
func (sm *sim) afterError(err error) error {
	if !errors.Is(err, store.ErrWrite) {
		return fmt.Errorf("unexpected error: %w", err)
	}
	for _, seq := range sm.live() {
		m := sm.msgs[seq]
		if got, lerr := sm.s.Load(seq); lerr == nil {
			if !bytes.Equal(got.Data, m.data) {
				return fmt.Errorf("after a write error, message %d differs", seq)
			}
		} else if !m.flipped {
			return fmt.Errorf("after a write error, message %d unreadable: %v", seq, lerr)
		}
	}
	if sm.rng.IntN(2) == 0 {
		sm.logf("crash after error")
		sm.fsys.Crash()
	} else {
		sm.s.Stop()
		sm.logf("stop after error")
	}
	return sm.reopen()
}

// markGone marks the messages a purge or compact removed.
func (sm *sim) markGone() error {
	for _, seq := range sm.live() {
		if _, err := sm.s.Load(seq); err != nil {
			sm.msgs[seq].removed = true
		}
	}
	return nil
}

// flip flips a bit inside the record of a random synced message.
func (sm *sim) flip() error {
	var cands []uint64
	for _, seq := range sm.live() {
		if sm.msgs[seq].durable {
			cands = append(cands, seq)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	seq := cands[sm.rng.IntN(len(cands))]
	names, _ := sm.fsys.ReadDir("/sim/blk")
	for _, n := range names {
		if !strings.HasSuffix(n, ".blk") {
			continue
		}
		path := "/sim/blk/" + n
		b, _ := sm.fsys.Contents(path)
		d, _ := sm.fsys.DurableContents(path) // preallocated zeros are durable too: compare bytes
		if bytes.HasPrefix(b, []byte(zFileMagic)) {
			if done, err := sm.flipChunk(path, b, d, seq); done || err != nil {
				return err
			}
			continue
		}
		res := scan(b, 0, sm.s.b.codec)
		for i := len(res.metas) - 1; i >= 0; i-- {
			m := res.metas[i]
			if end := int(m.off) + int(m.len); m.kind == kindMsg && m.seq == seq && end <= len(d) && bytes.Equal(b[m.off:end], d[m.off:end]) {
				off := int64(m.off) + int64(sm.rng.IntN(int(m.len)))
				sm.logf("flip bit of message %d in %s at %d", seq, n, off)
				sm.msgs[seq].flipped = true
				return sm.fsys.FlipBit(path, off, uint(sm.rng.IntN(8)))
			}
		}
	}
	return nil
}

// reopen opens the store again and checks it against what was stored.
func (sm *sim) reopen() error {
	armed := sm.inject.armed
	sm.inject.armed = false
	s, err := Open("/sim", sm.cfg, sm.opts)
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	sm.s = s
	sm.inject.armed = armed
	for _, blk := range s.b.order {
		if blk.z != nil {
			zsimStats[0]++
		}
	}
	st := s.State()
	present := make(map[uint64]bool)
	for seq := st.FirstSeq; seq <= st.LastSeq && st.Msgs > 0; seq++ {
		got, err := s.Load(seq)
		if err != nil {
			continue
		}
		present[seq] = true
		m := sm.msgs[seq]
		if m == nil {
			return fmt.Errorf("message %d served after recovery was never stored", seq)
		}
		if got.Subject != m.subj || !bytes.Equal(got.Data, m.data) || !bytes.Equal(got.Header, m.hdr) {
			return fmt.Errorf("message %d served after recovery differs from what was stored", seq)
		}
		if m.removed && m.removedDurable {
			return fmt.Errorf("message %d removed and synced came back", seq)
		}
	}
	for seq, m := range sm.msgs {
		if m.durable && !m.removed && !present[seq] && !m.flipped {
			return fmt.Errorf("synced message %d lost (state %+v)", seq, st)
		}
	}
	if n := uint64(len(present)); n != s.State().Msgs {
		return fmt.Errorf("state says %d messages, %d load", s.State().Msgs, n)
	}
	if ss := s.FilteredState(">", 0); ss.Msgs != uint64(len(present)) {
		return fmt.Errorf("filtered state %d, %d load", ss.Msgs, len(present))
	}
	var total uint64
	for _, n := range s.SubjectsTotals(">") {
		total += n
	}
	if total != uint64(len(present)) {
		return fmt.Errorf("subject totals %d, %d load", total, len(present))
	}
	// What survived is now on disk; what did not is gone for good.
	for seq, m := range sm.msgs {
		if present[seq] {
			m.durable, m.removed, m.removedDurable = true, false, false
		} else {
			delete(sm.msgs, seq)
		}
	}
	sm.logf("reopened: %d msgs %d..%d lost %v", st.Msgs, st.FirstSeq, st.LastSeq, st.Lost)
	if simTrace {
		sm.logf("%s", sm.dump())
	}
	return nil
}

// dump lists the records of every block file (for a failure report).
func (sm *sim) dump() string {
	var sb strings.Builder
	names, _ := sm.fsys.ReadDir("/sim/blk")
	for _, n := range names {
		b, _ := sm.fsys.Contents("/sim/blk/" + n)
		if !strings.HasSuffix(n, ".blk") {
			fmt.Fprintf(&sb, "  %s: %d bytes\n", n, len(b))
			continue
		}
		res := scan(b, 0, nil)
		fmt.Fprintf(&sb, "  %s (%d bytes, end %d, corrupt %v):", n, len(b), res.end, res.corrupt)
		for _, m := range res.metas {
			fmt.Fprintf(&sb, " %d:%d", m.kind, m.seq)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// flipChunk flips a bit in the compressed chunk holding message seq, when
// the file holds it and its bytes are durable; every message of the chunk
// is lost with it.
func (sm *sim) flipChunk(path string, b, d []byte, seq uint64) (bool, error) {
	sm.s.Lock()
	l, ok := sm.s.PeekLocked(seq)
	blk := sm.s.b.blocks[l.blk]
	sm.s.Unlock()
	if !ok || blk == nil || blockName("/sim/blk", l.blk) != path || blk.z == nil {
		return false, nil
	}
	for _, c := range zchunksOf(b) {
		if int64(l.off) < int64(c.uoff) || int64(l.off) >= int64(c.uoff)+int64(c.ulen) {
			continue
		}
		end := c.coff + int64(c.clen)
		if end > int64(len(d)) || !bytes.Equal(b[c.coff:end], d[c.coff:end]) {
			return false, nil
		}
		off := c.coff + int64(sm.rng.IntN(int(c.clen)))
		for _, s := range sm.live() {
			sm.s.Lock()
			ls, ok := sm.s.PeekLocked(s)
			sm.s.Unlock()
			if ok && ls.blk == l.blk && ls.off >= c.uoff && ls.off < c.uoff+c.ulen {
				sm.msgs[s].flipped = true
			}
		}
		zsimStats[1]++
		sm.logf("flip bit of message %d's chunk %d..%d in %s at %d", seq, c.uoff, c.uoff+c.ulen, path, off)
		return true, sm.fsys.FlipBit(path, off, uint(sm.rng.IntN(8)))
	}
	return false, nil
}

// zchunksOf lists the chunks of a compressed block file's bytes.
func zchunksOf(b []byte) []zchunk {
	var out []zchunk
	for pos := int64(zFileHdr); pos+zChunkHdr <= int64(len(b)); {
		c, ok := decodeChunkHdr(b[pos:], pos)
		if !ok || c.coff+int64(c.clen) > int64(len(b)) {
			break
		}
		out = append(out, c)
		pos = c.coff + int64(c.clen)
	}
	return out
}

const simTrace = false // log renames, removes, directory syncs and opens (debugging a seed)
