package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminSecretSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := b.Seal("wJalrXUtnFEMI/K7MDENG", "AKIA1")
	s2, _ := b.Seal("wJalrXUtnFEMI/K7MDENG", "AKIA1")
	if s1 == s2 || strings.Contains(s1, "wJalr") {
		t.Fatalf("sealing must be randomized and hide the secret: %s %s", s1, s2)
	}
	if got, err := b.Open(s1, "AKIA1"); err != nil || got != "wJalrXUtnFEMI/K7MDENG" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(s1, "AKIA2"); err != ErrOpen {
		t.Errorf("another context must not open: %v", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(s1, "AKIA1"); err != ErrOpen {
		t.Errorf("another key must not open: %v", err)
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := b.Open(tampered, "AKIA1"); err != ErrOpen {
		t.Errorf("a tampered value must not open: %v", err)
	}
	if _, err := b.Open("plain", "AKIA1"); err == nil {
		t.Error("an unsealed value must not open")
	}
	if _, err := New(key[:16]); err == nil {
		t.Error("a short key must be refused")
	}
}

func TestAdminMasterKeyParse(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, 32)
	for _, s := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key) + "\n"} {
		if k, err := ParseKey(s); err != nil || !bytes.Equal(k, key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	secret := "not-a-key-but-secretish"
	if _, err := ParseKey(secret); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("a bad key is refused without being quoted: %v", err)
	}
}

func TestAdminMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, created, err := LoadOrCreate("", path)
	if err != nil || !created || len(k1) != 32 {
		t.Fatalf("first: %v %v %d", err, created, len(k1))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreate("", path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second: %v %v", err, created)
	}
	env := hex.EncodeToString(bytes.Repeat([]byte{1}, 32))
	k3, _, err := LoadOrCreate(env, path)
	if err != nil || bytes.Equal(k3, k1) {
		t.Fatalf("the environment wins: %v", err)
	}
	if _, _, err := LoadOrCreate("short", path); err == nil || !strings.Contains(err.Error(), "WHARF_MASTER_KEY") {
		t.Errorf("bad env: %v", err)
	}
}
