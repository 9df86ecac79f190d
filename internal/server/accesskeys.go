package server

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/secrets"
	"github.com/wharfhq/wharf/internal/sigv4"
	"github.com/wharfhq/wharf/internal/store"
)

// AccessKeysPath is the administrator's endpoint for access keys (what
// `wharf admin` calls). It is SigV4-signed like the control plane and only
// the account root may use it: creating keys is IAM's business in AWS, not
// CodeArtifact's, so no CodeArtifact permission grants it.
const AccessKeysPath = "/wharf/v1/access-keys"

// openSecrets loads the master key that seals access keys' secrets.
func openSecrets(dataDir, env string) (*secrets.Box, string, error) {
	path := filepath.Join(dataDir, "master.key")
	key, created, err := secrets.LoadOrCreate(env, path)
	if err != nil {
		return nil, "", err
	}
	box, err := secrets.New(key)
	where := "WHARF_MASTER_KEY"
	if env == "" {
		where = path
		if created {
			where += " (created)"
		}
	}
	return box, where, err
}

// checkMasterKey reports stored access keys this master key cannot open, so
// a replica given another key says so at start rather than when callers
// are refused.
func checkMasterKey(ctx context.Context, st store.Store, box *secrets.Box) error {
	keys, err := st.ListAccessKeys(ctx)
	if err != nil {
		return err
	}
	var bad []string
	for _, k := range keys {
		if _, err := box.Open(k.Secret, k.AccessKeyID); err != nil {
			bad = append(bad, k.AccessKeyID)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%d of %d access keys (%s) do not decrypt under this master key and will be refused: give every replica the same WHARF_MASTER_KEY, or restore the master.key that sealed them",
			len(bad), len(keys), strings.Join(bad, ", "))
	}
	return nil
}

// lookup finds the credentials of an access key id for the SigV4 verifier:
// the configured root key, else a key in the store, decrypted.
func (s *Server) lookup(rootARN string) sigv4.Lookup {
	return func(id string) (sigv4.Credentials, bool) {
		if id == s.root.AccessKeyID {
			return sigv4.Credentials{AccessKeyID: id, Secret: s.root.Secret, Principal: rootARN}, true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		k, err := s.store.GetAccessKey(ctx, id)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.log.Error("looking up an access key", "access_key_id", id, "err", err)
			}
			return sigv4.Credentials{}, false
		}
		if k.Inactive {
			s.log.Warn("an inactive access key was used; it is refused", "access_key_id", id, "principal", k.Principal)
			return sigv4.Credentials{}, false
		}
		secret, err := s.secrets.Open(k.Secret, k.AccessKeyID)
		if err != nil {
			s.log.Error("an access key's secret cannot be decrypted; the key is refused", "access_key_id", id, "principal", k.Principal, "err", err)
			return sigv4.Credentials{}, false
		}
		return sigv4.Credentials{AccessKeyID: id, Secret: secret, Principal: k.Principal}, true
	}
}

// accessKey is an access key as the admin endpoint shows it; Secret only in
// the answer that creates it.
type accessKey struct {
	UserName    string `json:"userName"`
	Permissions string `json:"permissions"`
	Principal   string `json:"principal"`
	AccessKeyID string `json:"accessKeyId"`
	Secret      string `json:"secretAccessKey,omitempty"`
	CreatedAt   string `json:"createdAt"`
	Status      string `json:"status"` // Active | Inactive, as IAM says
}

func describeKey(k store.AccessKey) accessKey {
	name, profile, _ := policy.User(k.Principal)
	status := "Active"
	if k.Inactive {
		status = "Inactive"
	}
	return accessKey{UserName: name, Permissions: profile, Principal: k.Principal, AccessKeyID: k.AccessKeyID,
		CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339), Status: status}
}

// accessKeys serves AccessKeysPath: GET lists, POST ?userName=&permissions=
// creates, PUT ?accessKeyId=&status=Active|Inactive deactivates (revoking
// every token minted from the key) or reactivates, DELETE ?accessKeyId=
// deletes and revokes every token minted from the key.
func (s *Server) accessKeys(w http.ResponseWriter, r *http.Request) {
	creds, ok := s.rootCaller(w, r, "manage access keys")
	if !ok {
		return
	}
	ctx, q := r.Context(), r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		keys, err := s.store.ListAccessKeys(ctx)
		if err != nil {
			s.internalError(w, err)
			return
		}
		out := make([]accessKey, 0, len(keys))
		for _, k := range keys {
			out = append(out, describeKey(k))
		}
		adminJSON(w, map[string]any{"accessKeys": out})
	case http.MethodPost:
		k, secret, err := s.createAccessKey(ctx, q.Get("userName"), q.Get("permissions"))
		var ve validationError
		if errors.As(err, &ve) {
			adminError(w, http.StatusBadRequest, "ValidationException", ve.Error())
			return
		}
		if err != nil {
			s.internalError(w, err)
			return
		}
		s.log.Info("access key created", "access_key_id", k.AccessKeyID, "principal", k.Principal, "by", creds.Principal)
		out := describeKey(k)
		out.Secret = secret
		adminJSON(w, map[string]any{"accessKey": out})
	case http.MethodPut:
		s.updateAccessKey(w, r, creds.Principal)
	case http.MethodDelete:
		id := q.Get("accessKeyId")
		k, err := s.store.GetAccessKey(ctx, id)
		if err == nil {
			// Revoked first: should the delete fail, the key's tokens are
			// refused anyway, and the key can only mint new ones.
			err = s.revokeKeyTokens(ctx, k, "deleted", creds.Principal)
		}
		if err == nil {
			err = s.store.DeleteAccessKey(ctx, id)
		}
		if errors.Is(err, store.ErrNotFound) {
			accessKeyNotFound(w, id)
			return
		}
		if err != nil {
			s.internalError(w, err)
			return
		}
		s.log.Info("access key deleted", "access_key_id", id, "principal", k.Principal, "by", creds.Principal)
		adminJSON(w, map[string]any{"accessKey": describeKey(k)})
	default:
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
		adminError(w, http.StatusMethodNotAllowed, "ValidationException", r.Method+" is not supported: GET lists access keys, POST creates one, PUT changes one's status, DELETE deletes one")
	}
}

// rootCaller verifies an administrative request's SigV4 signature and
// that it comes from the account root; otherwise it answers and says no.
func (s *Server) rootCaller(w http.ResponseWriter, r *http.Request, what string) (sigv4.Credentials, bool) {
	creds, err := s.verifier.Verify(r)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			adminError(w, se.Status, se.Code, se.Message)
			return creds, false
		}
		adminError(w, http.StatusForbidden, "AccessDeniedException", "the request's signature cannot be verified")
		return creds, false
	}
	if !policy.IsRoot(creds.Principal) {
		s.log.Warn("administration refused", "what", what, "principal", creds.Principal, "client", r.RemoteAddr)
		adminError(w, http.StatusForbidden, "AccessDeniedException", fmt.Sprintf("User: %s is not authorized to %s: only the account root (the WHARF_ROOT_ACCESS_KEY_ID key) may", creds.Principal, what))
		return creds, false
	}
	return creds, true
}

type validationError struct{ error }

// createAccessKey makes a key for user name with a permission profile. A
// user name belongs to one profile, as an IAM user name is unique whatever
// its path.
func (s *Server) createAccessKey(ctx context.Context, name, permissions string) (store.AccessKey, string, error) {
	principal, err := policy.UserARN(s.accountID, name, permissions)
	if err != nil {
		return store.AccessKey{}, "", validationError{err}
	}
	keys, err := s.store.ListAccessKeys(ctx)
	if err != nil {
		return store.AccessKey{}, "", err
	}
	for _, k := range keys {
		if n, p, _ := policy.User(k.Principal); n == name && k.Principal != principal {
			return store.AccessKey{}, "", validationError{fmt.Errorf("user %s already exists with permissions %s (access key %s); delete its keys first to change its permissions, or choose another name", name, p, k.AccessKeyID)}
		}
	}
	secret := randomString(30)
	for attempt := 0; ; attempt++ {
		k := store.AccessKey{AccessKeyID: "AKIA" + strings.ToUpper(base32.StdEncoding.EncodeToString(randomBytes(10))), Principal: principal, CreatedAt: time.Now().UTC()}
		if k.Secret, err = s.secrets.Seal(secret, k.AccessKeyID); err != nil {
			return k, "", err
		}
		err = s.store.CreateAccessKey(ctx, k)
		if errors.Is(err, store.ErrExists) && attempt < 3 {
			continue
		}
		return k, secret, err
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// randomString: AWS secret keys are 40 characters of base64.
func randomString(n int) string { return base64.StdEncoding.EncodeToString(randomBytes(n)) }

func (s *Server) internalError(w http.ResponseWriter, err error) {
	s.log.Error("access key administration failed", "err", err)
	adminError(w, http.StatusInternalServerError, "InternalServerException", "internal error; the server log has details")
}

func adminJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// adminError answers in the control plane's AWS error shape, which
// internal/client decodes.
func adminError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// revokeKeyTokens revokes the tokens minted from k until now, because k
// was deleted or deactivated; the principal is recorded too, for tokens
// minted before tokens carried their access key id.
func (s *Server) revokeKeyTokens(ctx context.Context, k store.AccessKey, why, by string) error {
	now := time.Now().UTC()
	return s.revoke(ctx, store.Revocation{AccessKeyID: k.AccessKeyID, Principal: k.Principal, Before: now,
		Reason: "access key " + k.AccessKeyID + " was " + why, CreatedAt: now}, by)
}

func accessKeyNotFound(w http.ResponseWriter, id string) {
	adminError(w, http.StatusNotFound, "ResourceNotFoundException", fmt.Sprintf("access key %q not found; `wharf admin list-access-keys` lists them", id))
}

// updateAccessKey deactivates or reactivates a key. Deactivating revokes
// the tokens minted from it until then (first, so that a failure leaves
// them revoked rather than the key inactive with its tokens working);
// reactivating does not bring them back.
func (s *Server) updateAccessKey(w http.ResponseWriter, r *http.Request, by string) {
	ctx, q := r.Context(), r.URL.Query()
	id, status := q.Get("accessKeyId"), q.Get("status")
	if status != "Active" && status != "Inactive" {
		adminError(w, http.StatusBadRequest, "ValidationException", fmt.Sprintf("status %q: want Active or Inactive", status))
		return
	}
	k, err := s.store.GetAccessKey(ctx, id)
	if err == nil && status == "Inactive" {
		err = s.revokeKeyTokens(ctx, k, "deactivated", by)
	}
	if err == nil {
		err = s.store.SetAccessKeyInactive(ctx, id, status == "Inactive")
	}
	if errors.Is(err, store.ErrNotFound) {
		accessKeyNotFound(w, id)
		return
	}
	if err != nil {
		s.internalError(w, err)
		return
	}
	k.Inactive = status == "Inactive"
	s.log.Info("access key status changed", "access_key_id", id, "principal", k.Principal, "status", status, "by", by)
	adminJSON(w, map[string]any{"accessKey": describeKey(k)})
}
