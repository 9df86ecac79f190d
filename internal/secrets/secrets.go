// Package secrets encrypts small secrets (access keys' secret keys) at rest
// with AES-256-GCM under a master key that never enters the metadata store:
// it comes from WHARF_MASTER_KEY or from a key file in the data directory.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// prefix versions the sealed format, so a future cipher can sit beside it.
const prefix = "gcm1:"

// ErrOpen means a sealed value does not decrypt under this key: it was
// sealed under another master key, or it was altered.
var ErrOpen = errors.New("secret does not decrypt under this master key (another WHARF_MASTER_KEY or master.key sealed it, or it was altered)")

// Box seals and opens secrets under one master key.
type Box struct{ aead cipher.AEAD }

// New makes a Box from a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("master key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext. context (the access key id) is authenticated but
// not stored, so a sealed secret copied onto another record does not open.
func (b *Box) Seal(plaintext, context string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(context))
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal returned for the same context.
func (b *Box) Open(sealed, context string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", fmt.Errorf("not a sealed secret (want the %q format)", prefix)
	}
	data, err := base64.RawStdEncoding.DecodeString(raw)
	n := b.aead.NonceSize()
	if err != nil || len(data) < n+b.aead.Overhead() {
		return "", ErrOpen
	}
	plain, err := b.aead.Open(nil, data[:n], data[n:], []byte(context))
	if err != nil {
		return "", ErrOpen
	}
	return string(plain), nil
}

// ParseKey reads a 32-byte key written as 64 hex digits or as base64
// (standard or URL alphabet, padded or not). The error never quotes the key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, fmt.Errorf("a master key is 32 random bytes written as 64 hex digits or as base64 (%d characters given); make one with `openssl rand -base64 32`", len(s))
}

// LoadOrCreate returns the key from env when set (every replica of a
// scaled-out wharf must be given the same one), else from the key file,
// creating the file (mode 0600) with a random key on first use.
// created is true when this call wrote the file.
func LoadOrCreate(env, path string) (key []byte, created bool, err error) {
	if env != "" {
		k, err := ParseKey(env)
		if err != nil {
			return nil, false, fmt.Errorf("WHARF_MASTER_KEY: %w", err)
		}
		return k, false, nil
	}
	if data, err := os.ReadFile(path); err == nil {
		k, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process won the race: use its key
		return LoadOrCreate("", path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("create the master key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("write the master key file: %w", err)
	}
	return k, true, nil
}
