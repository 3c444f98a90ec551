package filestore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/klauspost/compress/s2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/sluicehq/sluice/internal/server/store"
	"github.com/sluicehq/sluice/internal/server/store/vfs"
)

// Record flags (byte 17 of a record header). They are per record, so
// blocks written before and after a change of compression or encryption
// are read alike.
const (
	flagS2    byte = 1 << 0 // the body is s2-compressed (before sealing)
	flagSeal  byte = 1 << 1 // the body is sealed with the store's data key
	knownFlag      = flagS2 | flagSeal
	nonceTail      = 4 // random bytes of a record's nonce kept in its body
)

// codec turns message bodies into what is stored and back.
type codec struct {
	aead     cipher.AEAD // nil: no encryption
	compress bool
	rng      *rand.ChaCha8 // nonce tails (unique, not secret)
	scratch  []byte
}

// errNoKey: a sealed record was found and no key is configured.
var errNoKey = errors.New("sealed record and no encryption key")

// errBadKey: a sealed record does not open with the store's data key.
var errBadKey = errors.New("sealed record does not open with the store's key")

// appendMsgRec appends a message record, compressed and sealed as the
// codec says.
func (c *codec) appendMsgRec(dst []byte, seq uint64, ts, ttl int64, subj string, hdr, data []byte) []byte {
	if c == nil || c.aead == nil {
		return appendMsg(dst, seq, ts, ttl, subj, hdr, data)
	}
	le := binary.LittleEndian
	body := c.scratch[:0]
	body = le.AppendUint64(body, uint64(ts))
	body = le.AppendUint64(body, uint64(ttl))
	body = append(body, subj...)
	body = append(body, hdr...)
	body = append(body, data...)
	c.scratch = body
	var flags byte
	if c.compress && c.aead != nil {
		// Without a key, whole blocks are compressed once sealed (zblock.go).
		if z := s2.Encode(nil, body); len(z) < len(body) {
			body, flags = z, flagS2
		}
	}
	start := len(dst)
	dst = append(dst, make([]byte, hdrSize)...)
	if c.aead != nil {
		flags |= flagSeal
		var nt [nonceTail]byte
		le.PutUint32(nt[:], uint32(c.rng.Uint64())) // the sequence is the rest of the nonce
		dst = append(dst, nt[:]...)
		r := dst[start:]
		fillAAD(r, seq, flags, uint16(len(subj)), uint32(len(hdr)))
		nonce := recNonce(seq, nt[:])
		dst = c.aead.Seal(dst, nonce[:c.aead.NonceSize()], body, dst[start+8:start+24])
	} else {
		dst = append(dst, body...)
	}
	r := dst[start:]
	putHeaderFlags(r, uint32(len(r)), seq, kindMsg, flags, uint16(len(subj)), uint32(len(hdr)))
	return dst
}

// fillAAD writes the header fields a seal authenticates (bytes 8..24).
func fillAAD(r []byte, seq uint64, flags byte, slen uint16, hlen uint32) {
	le := binary.LittleEndian
	le.PutUint64(r[8:], seq)
	r[16], r[17] = kindMsg, flags
	le.PutUint16(r[18:], slen)
	le.PutUint32(r[20:], hlen)
}

func recNonce(seq uint64, tail []byte) [12]byte {
	var n [12]byte
	binary.LittleEndian.PutUint64(n[:], seq)
	copy(n[8:], tail)
	return n
}

// body returns the plain body (ts, ttl, subject, header, data) of a
// checked message record.
func (c *codec) body(h recHeader, r []byte) ([]byte, error) {
	b := r[hdrSize:h.len]
	if h.flags&flagSeal != 0 {
		if c == nil || c.aead == nil {
			return nil, errNoKey
		}
		if len(b) < nonceTail+c.aead.Overhead() {
			return nil, store.ErrCorrupt
		}
		nonce := recNonce(h.seq, b[:nonceTail])
		p, err := c.aead.Open(nil, nonce[:c.aead.NonceSize()], b[nonceTail:], r[8:24])
		if err != nil {
			return nil, errBadKey
		}
		b = p
	}
	if h.flags&flagS2 != 0 {
		p, err := s2.Decode(nil, b)
		if err != nil {
			return nil, store.ErrCorrupt
		}
		b = p
	}
	if len(b) < bodyFixed+int(h.slen)+int(h.hlen) {
		return nil, store.ErrCorrupt
	}
	return b, nil
}

// fields splits a plain body.
func fields(h recHeader, b []byte) (ts, ttl int64, subj, hdr, data []byte) {
	le := binary.LittleEndian
	ts, ttl = int64(le.Uint64(b)), int64(le.Uint64(b[8:]))
	p := bodyFixed
	subj = b[p : p+int(h.slen)]
	p += int(h.slen)
	return ts, ttl, subj, b[p : p+int(h.hlen)], b[p+int(h.hlen):]
}

// Key file: <dir>/key holds the store's random data key sealed with a key
// derived from the configured one (HMAC-SHA256 of the stream name), so a
// rotation re-seals 48 bytes instead of rewriting every block.
//
//	"SLK1" | cipher (1 chachapoly, 2 aes) | nonce (12) | sealed data key (32+16)
const (
	keyMagic = "SLK1"
	keyFile  = "key"
)

func newAEAD(c store.Cipher, key []byte) (cipher.AEAD, error) {
	switch c {
	case store.ChaChaPoly:
		return chacha20poly1305.New(key)
	case store.AES:
		blk, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(blk)
	}
	return nil, fmt.Errorf("unknown cipher %d", c)
}

func kek(c store.Cipher, key, name string) (cipher.AEAD, error) {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("sluice filestore key:" + name))
	return newAEAD(c, m.Sum(nil))
}

func sealKey(c store.Cipher, key, name string, dek []byte) ([]byte, error) {
	a, err := kek(c, key, name)
	if err != nil {
		return nil, err
	}
	out := append([]byte(keyMagic), byte(c))
	nonce := make([]byte, a.NonceSize())
	if _, err := crand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return a.Seal(out, nonce, dek, out[:5]), nil
}

func openKey(data []byte, key, name string) (store.Cipher, []byte, error) {
	if len(data) < 5+12+32+16 || string(data[:4]) != keyMagic {
		return 0, nil, errors.New("key file is not a sluice key file")
	}
	c := store.Cipher(data[4])
	a, err := kek(c, key, name)
	if err != nil {
		return 0, nil, err
	}
	dek, err := a.Open(nil, data[5:17], data[17:], data[:5])
	if err != nil {
		return 0, nil, err
	}
	return c, dek, nil
}

// openCodec reads (or, when encryption is configured and there is none,
// prepares) the key file. A key file with no key configured, or that
// neither the key nor the previous key opens, refuses the store: nothing
// is changed. create is set when a new key file must be written once
// recovery succeeded; rotate when it must be re-sealed with the current key.
func openCodec(fsys vfs.FS, dir string, cfg store.Config) (c *codec, newKeyFile []byte, err error) {
	c = &codec{compress: cfg.Compression == store.S2Compression}
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, nil, err
	}
	c.rng = rand.NewChaCha8(seed)
	enc := cfg.Encryption
	data, rerr := fsys.ReadFile(filepath.Join(dir, keyFile))
	exists := rerr == nil
	if rerr != nil && !vfs.IsNotExist(rerr) {
		return nil, nil, fmt.Errorf("%w: reading the key file: %v", store.ErrEncryption, rerr)
	}
	switch {
	case enc == nil && !exists:
		return c, nil, nil
	case enc == nil:
		return nil, nil, fmt.Errorf("%w: stream %q is encrypted at rest and no encryption key is configured (jetstream { key: ... })", store.ErrEncryption, cfg.Name)
	case !exists:
		dek := make([]byte, 32)
		if _, err := crand.Read(dek); err != nil {
			return nil, nil, err
		}
		if c.aead, err = newAEAD(enc.Cipher, dek); err != nil {
			return nil, nil, err
		}
		sealed, err := sealKey(enc.Cipher, enc.Key, cfg.Name, dek)
		return c, sealed, err
	}
	cph, dek, err := openKey(data, enc.Key, cfg.Name)
	if err != nil && enc.PrevKey != "" {
		if cph, dek, err = openKey(data, enc.PrevKey, cfg.Name); err == nil {
			// Rotation: the data key stays, sealed with the new key.
			data, err = sealKey(cph, enc.Key, cfg.Name, dek)
			if err != nil {
				return nil, nil, err
			}
			c.aead, err = newAEAD(cph, dek)
			return c, data, err
		}
	}
	if err != nil {
		hint := "; to rotate keys, set prev_encryption_key to the key the stream was written with"
		if enc.PrevKey != "" {
			hint = " (nor does prev_encryption_key)"
		}
		return nil, nil, fmt.Errorf("%w: the configured key does not open stream %q's key file: wrong key%s", store.ErrEncryption, cfg.Name, hint)
	}
	c.aead, err = newAEAD(cph, dek)
	return c, nil, err
}

// An index is s2-compressed whole, then, in a store with a key, sealed:
//
//	"SLZ1" | s2(index)
//	"SLE1" | nonce (12) | sealed("SLZ1" | s2(index))
const (
	sealedIdxMagic = "SLE1"
	zipIdxMagic    = "SLZ1" // then the s2-compressed index
)

func (c *codec) sealIndex(id uint32, plain []byte) []byte {
	// Indexes repeat subjects and neighbouring values: s2 shrinks them
	// several times over, whatever the stream's compression.
	plain = append([]byte(zipIdxMagic), s2.Encode(nil, plain)...)
	if c == nil || c.aead == nil {
		return plain
	}
	out := make([]byte, 0, 4+12+len(plain)+c.aead.Overhead())
	out = append(out, sealedIdxMagic...)
	var nonce [12]byte
	binary.LittleEndian.PutUint64(nonce[:], c.rng.Uint64())
	binary.LittleEndian.PutUint32(nonce[8:], id)
	out = append(out, nonce[:c.aead.NonceSize()]...)
	return c.aead.Seal(out, nonce[:c.aead.NonceSize()], plain, binary.LittleEndian.AppendUint32([]byte(sealedIdxMagic), id))
}

// openIndex returns a plain index (nil when it cannot be opened: the
// block is scanned instead).
func (c *codec) openIndex(id uint32, data []byte) []byte {
	if len(data) >= 4 && string(data[:4]) == sealedIdxMagic {
		if c == nil || c.aead == nil || len(data) < 4+c.aead.NonceSize() {
			return nil
		}
		ns := c.aead.NonceSize()
		p, err := c.aead.Open(nil, data[4:4+ns], data[4+ns:], binary.LittleEndian.AppendUint32([]byte(sealedIdxMagic), id))
		if err != nil {
			return nil
		}
		data = p
	}
	if len(data) >= 4 && string(data[:4]) == zipIdxMagic {
		p, err := s2.Decode(nil, data[4:])
		if err != nil {
			return nil
		}
		data = p
	}
	return data
}
