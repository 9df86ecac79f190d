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

// tokenKeyring loads the token signing key shared by every replica through
// the metadata store, creating it at first start.
func tokenKeyring(ctx context.Context, st store.Store) (*auth.Keyring, error) {
	id, key, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	stored, err := st.PutSettingIfAbsent(ctx, settingTokenKey, id+":"+hex.EncodeToString(key))
	if err != nil {
		return nil, err
	}
	kid, hexKey, ok := strings.Cut(stored, ":")
	raw, herr := hex.DecodeString(hexKey)
	if !ok || herr != nil {
		return nil, errors.New("the stored token signing key is damaged")
	}
	return auth.NewKeyring(kid, map[string][]byte{kid: raw})
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
