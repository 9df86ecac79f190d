package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/store"
)

// Settings names in the metadata store.
const (
	settingAccountID = "account-id"
	settingTokenKey  = "token-signing-key" // "<kid>:<hex key>"
)

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// accountID returns the configured account id, or the one generated and
// persisted at first start. The first replica to store one wins.
func accountID(ctx context.Context, st store.Store, configured string) (string, error) {
	if configured != "" {
		if !accountIDPattern.MatchString(configured) {
			return "", fmt.Errorf("WHARF_ACCOUNT_ID must be exactly 12 digits, got %q", configured)
		}
		return configured, nil
	}
	n, err := rand.Int(rand.Reader, big.NewInt(9e11))
	if err != nil {
		return "", err
	}
	return st.PutSettingIfAbsent(ctx, settingAccountID, fmt.Sprintf("%012d", n.Int64()+1e11))
}

// rootCredentials are the administrator's SigV4 credentials.
type rootCredentials struct {
	AccessKeyID, Secret string
	Generated           bool   // created by this start: show once
	File                string // where they are kept when generated
}

// loadRootCredentials takes them from the configuration, or from the file in
// the data directory, or generates them there (mode 0600).
func loadRootCredentials(dataDir, keyID, secret string) (rootCredentials, error) {
	if keyID != "" || secret != "" {
		if keyID == "" || secret == "" {
			return rootCredentials{}, errors.New("set both WHARF_ROOT_ACCESS_KEY_ID and WHARF_ROOT_SECRET_ACCESS_KEY, or neither (wharf then generates them)")
		}
		return rootCredentials{AccessKeyID: keyID, Secret: secret}, nil
	}
	path := filepath.Join(dataDir, "root-credentials")
	if data, err := os.ReadFile(path); err == nil {
		id, sec, ok := strings.Cut(strings.TrimSpace(string(data)), ":")
		if !ok || id == "" || sec == "" {
			return rootCredentials{}, fmt.Errorf("%s is damaged: expected ACCESS_KEY_ID:SECRET; delete it to generate new credentials", path)
		}
		return rootCredentials{AccessKeyID: id, Secret: sec, File: path}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return rootCredentials{}, err
	}
	id := "AKIA" + strings.ToUpper(randomHex(8))
	sec := randomHex(20)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return rootCredentials{}, fmt.Errorf("write root credentials: %w", err)
	}
	if _, err := fmt.Fprintf(f, "%s:%s\n", id, sec); err != nil {
		f.Close()
		return rootCredentials{}, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return rootCredentials{}, err
	}
	return rootCredentials{AccessKeyID: id, Secret: sec, Generated: true, File: path}, f.Close()
}

// Token signing keys live in the metadata store, so every replica signs and
// verifies with the same ones: generation 0 under settingTokenKey, each
// rotation adds generation N under settingTokenKey+".N", and the highest
// generation signs. Old generations keep verifying the tokens they signed.

func tokenKeySetting(gen int) string {
	if gen == 0 {
		return settingTokenKey
	}
	return fmt.Sprintf("%s.%d", settingTokenKey, gen)
}

func newTokenKey() (string, error) {
	id, key, err := auth.GenerateKey()
	if err != nil {
		return "", err
	}
	return id + ":" + hex.EncodeToString(key), nil
}

// loadTokenKeys reads every generation; gen is the highest.
func loadTokenKeys(ctx context.Context, st store.Store) (current string, keys map[string][]byte, gen int, err error) {
	keys = map[string][]byte{}
	for gen = 0; ; gen++ {
		stored, err := st.GetSetting(ctx, tokenKeySetting(gen))
		if errors.Is(err, store.ErrNotFound) && gen > 0 {
			return current, keys, gen - 1, nil
		}
		if err != nil {
			return "", nil, 0, err
		}
		kid, hexKey, ok := strings.Cut(stored, ":")
		raw, herr := hex.DecodeString(hexKey)
		if !ok || herr != nil {
			return "", nil, 0, fmt.Errorf("the stored token signing key %s is damaged", tokenKeySetting(gen))
		}
		keys[kid], current = raw, kid
	}
}

// tokenKeyring loads the token signing keys, creating the first at first
// start (the first replica to store one wins), and reloads them when a
// token names a key this process has not seen (rotated on another replica).
func tokenKeyring(ctx context.Context, st store.Store) (*auth.Keyring, error) {
	first, err := newTokenKey()
	if err != nil {
		return nil, err
	}
	if _, err := st.PutSettingIfAbsent(ctx, settingTokenKey, first); err != nil {
		return nil, err
	}
	current, keys, _, err := loadTokenKeys(ctx, st)
	if err != nil {
		return nil, err
	}
	ring, err := auth.NewKeyring(current, keys)
	if err != nil {
		return nil, err
	}
	ring.SetLoader(func() (string, map[string][]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		current, keys, _, err := loadTokenKeys(ctx, st)
		return current, keys, err
	})
	return ring, nil
}

// rotateTokenKey adds a signing key generation; replicas rotating at the
// same moment agree on one new key.
func rotateTokenKey(ctx context.Context, st store.Store) error {
	_, _, gen, err := loadTokenKeys(ctx, st)
	if err != nil {
		return err
	}
	next, err := newTokenKey()
	if err != nil {
		return err
	}
	_, err = st.PutSettingIfAbsent(ctx, tokenKeySetting(gen+1), next)
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
