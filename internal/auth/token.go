// Package auth mints and verifies the authorization tokens of the data plane
// and explains, in words a person can act on, why a request's credentials are
// refused.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// tokenPrefix versions the format: a future format gets a new prefix, so an
// old server can tell "newer than me" from "garbage".
const tokenPrefix = "wharf1."

// MinKeySize is the smallest signing key NewKeyring accepts: HMAC-SHA256 is as
// strong as its key up to the 32-byte hash size.
const MinKeySize = 32

// b64 is strict so that a token has exactly one spelling: without Strict, the
// unused low bits of the last character could be flipped without changing the
// decoded bytes, and a "tampered" token would still verify.
var b64 = base64.RawURLEncoding.Strict()

// Claims is what a token says about itself. Verify guarantees it was issued by
// a key in the ring; whether it is still valid, and for which endpoint, is the
// caller's (or Authenticate's) decision.
//
// AccessKeyID names the access key whose SigV4 credentials asked for the
// token, so that deleting the key revokes it (see Revoked); tokens minted
// before wharf recorded it have none. IssuedAt has microsecond precision
// (whole seconds in those older tokens), so that a revocation "before now"
// spares a token minted a moment after it.
type Claims struct {
	DomainOwner, Domain, Principal, KeyID, AccessKeyID string
	IssuedAt, ExpiresAt                                time.Time
}

type payload struct {
	V   int    `json:"v"`
	Kid string `json:"kid"`
	Own string `json:"own"`
	Dom string `json:"dom"`
	Sub string `json:"sub,omitempty"`
	Ak  string `json:"ak,omitempty"` // the access key id
	Iat int64  `json:"iat"`
	Us  int64  `json:"us,omitempty"` // IssuedAt's microseconds within its second
	Exp int64  `json:"exp"`
}

// Keyring holds the signing keys by id and the id of the key that signs new
// tokens. Old keys stay in the ring after a rotation so that the tokens they
// signed keep working until they expire. The keys in use form an immutable
// set swapped atomically (see Reload), which makes a Keyring safe for
// concurrent use.
type Keyring struct {
	set atomic.Pointer[keySet]
	// loader, when set, reads the installation's keys again (Reload): a
	// token signed by a key this process has not seen yet (rotated on
	// another replica) triggers one reload before it is refused.
	loader     func() (current string, keys map[string][]byte, err error)
	lastReload atomic.Int64 // unix nanoseconds

	// verified remembers tokens that passed check: the same token arrives
	// with every request of a client, and decoding and HMAC-verifying it
	// each time was a tenth of serving a cached index page. Only the
	// signature check is remembered (a pure function of the token and the
	// keys; Reload forgets it all); expiry and scope are checked on every
	// request.
	verified  sync.Map // token -> Claims
	nVerified atomic.Int64
}

// maxVerified bounds the verified-token memory (tokens are ~300 bytes).
const maxVerified = 10000

func (k *Keyring) rememberVerified(tok string, c Claims) {
	if k.nVerified.Add(1) > maxVerified {
		k.verified.Clear()
		k.nVerified.Store(1)
	}
	k.verified.Store(tok, c)
}

// keySet is one immutable generation of a Keyring's keys.
type keySet struct {
	current string
	keys    map[string][]byte
}

// NewKeyring copies keys, so the caller may reuse or wipe its map.
func NewKeyring(current string, keys map[string][]byte) (*Keyring, error) {
	set, err := newKeySet(current, keys)
	if err != nil {
		return nil, err
	}
	k := &Keyring{}
	k.set.Store(set)
	return k, nil
}

func newKeySet(current string, keys map[string][]byte) (*keySet, error) {
	s := &keySet{current: current, keys: make(map[string][]byte, len(keys))}
	for id, key := range keys {
		if !validKeyID(id) {
			return nil, fmt.Errorf("auth: key id %q: want 1 to 32 characters among A-Z a-z 0-9 - _", id)
		}
		if len(key) < MinKeySize {
			return nil, fmt.Errorf("auth: key %q is %d bytes, want at least %d", id, len(key), MinKeySize)
		}
		s.keys[id] = append([]byte(nil), key...)
	}
	if _, ok := s.keys[current]; !ok {
		return nil, fmt.Errorf("auth: current key %q is not among the %d keys given", current, len(keys))
	}
	return s, nil
}

// SetLoader lets the keyring read the installation's keys again when it
// meets a key id it does not know (see Reload).
func (k *Keyring) SetLoader(load func() (current string, keys map[string][]byte, err error)) {
	k.loader = load
}

// Reload reads the keys through the loader and swaps them in. Tokens
// already verified stay valid: rotation adds keys, it does not remove them.
func (k *Keyring) Reload() error {
	if k.loader == nil {
		return nil
	}
	current, keys, err := k.loader()
	if err != nil {
		return err
	}
	set, err := newKeySet(current, keys)
	if err != nil {
		return err
	}
	k.set.Store(set)
	// Rotation only adds keys today; should a reload ever drop one, no
	// token it signed may stay remembered.
	k.verified.Clear()
	k.nVerified.Store(0)
	k.lastReload.Store(time.Now().UnixNano())
	return nil
}

// CurrentKeyID names the key that signs new tokens.
func (k *Keyring) CurrentKeyID() string { return k.set.Load().current }

// key finds a signing key, reloading at most once a second when the id is
// unknown, so a flood of forged key ids cannot turn into a flood of reads.
func (k *Keyring) key(id string) ([]byte, bool) {
	if key, ok := k.set.Load().keys[id]; ok {
		return key, true
	}
	if k.loader == nil || time.Since(time.Unix(0, k.lastReload.Load())) < time.Second {
		return nil, false
	}
	if err := k.Reload(); err != nil {
		return nil, false
	}
	key, ok := k.set.Load().keys[id]
	return key, ok
}

func validKeyID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isTokenChar(id[i]) || id[i] == '.' {
			return false
		}
	}
	return true
}

// GenerateKey returns a fresh signing key and a short id for it. The id only
// has to be unique among the keys of one installation.
func GenerateKey() (id string, key []byte, err error) {
	b := make([]byte, 4+32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(b[:4]), b[4:], nil
}

// Mint signs c with the current key. A zero IssuedAt means now.
func (k *Keyring) Mint(c Claims) (string, error) {
	if c.DomainOwner == "" || c.Domain == "" {
		return "", errors.New("auth: mint: domain owner and domain are required")
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = time.Now()
	}
	if !c.ExpiresAt.After(c.IssuedAt) {
		return "", errors.New("auth: mint: ExpiresAt must be after IssuedAt")
	}
	set := k.set.Load()
	p, err := json.Marshal(payload{V: 1, Kid: set.current, Own: c.DomainOwner, Dom: c.Domain,
		Sub: c.Principal, Ak: c.AccessKeyID, Iat: c.IssuedAt.Unix(), Us: int64(c.IssuedAt.Nanosecond() / 1000), Exp: c.ExpiresAt.Unix()})
	if err != nil {
		return "", err
	}
	signed := tokenPrefix + b64.EncodeToString(p)
	return signed + "." + b64.EncodeToString(sign(set.keys[set.current], signed)), nil
}

func sign(key []byte, signed string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// Verify checks the token's format and signature only. It does not look at
// the expiry or the domain: Authenticate does, and a "what is this token?"
// endpoint wants to describe an expired token rather than refuse to read it.
// A failure is a *Refusal with Code "malformed", "unknown-key" or
// "bad-signature".
func (k *Keyring) Verify(token string) (Claims, error) {
	c, r := k.verify(token)
	if r != nil {
		return Claims{}, r
	}
	return c, nil
}

func (k *Keyring) verify(token string) (Claims, *Refusal) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return Claims{}, malformed(token)
	}
	rest := token[len(tokenPrefix):]
	p64, s64, ok := strings.Cut(rest, ".")
	// base64's decoder skips '\r' and '\n' even in strict mode: without
	// this check a genuine token with a line break pasted into its
	// signature would verify, and one token would have many spellings.
	if !ok || !base64URL(p64) || !base64URL(s64) {
		return Claims{}, damaged()
	}
	raw, err1 := b64.DecodeString(p64)
	sig, err2 := b64.DecodeString(s64)
	var p payload
	if err1 != nil || err2 != nil || len(sig) != sha256.Size || json.Unmarshal(raw, &p) != nil ||
		p.V != 1 || p.Own == "" || p.Dom == "" {
		return Claims{}, damaged()
	}
	key, ok := k.key(p.Kid)
	if !ok {
		return Claims{}, &Refusal{Code: "unknown-key", Message: "The token was signed with a key this server does not have.\n" +
			"It was issued by another wharf installation, or by this one with a signing key that has since been removed (key rotation).\n" +
			"Get a new token from this server."}
	}
	if !hmac.Equal(sig, sign(key, token[:len(tokenPrefix)+len(p64)])) {
		return Claims{}, &Refusal{Code: "bad-signature", Message: "The token's signature is not valid: the token was altered after it was issued " +
			"(a character changed, added or removed when it was copied).\n" +
			"Copy the whole token again, or get a new one."}
	}
	if p.Us < 0 || p.Us >= 1e6 {
		return Claims{}, damaged()
	}
	return Claims{DomainOwner: p.Own, Domain: p.Dom, Principal: p.Sub, KeyID: p.Kid, AccessKeyID: p.Ak,
		IssuedAt: time.Unix(p.Iat, p.Us*1000).UTC(), ExpiresAt: time.Unix(p.Exp, 0).UTC()}, nil
}

// base64URL reports whether s is made of the unpadded base64url alphabet
// only.
func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func damaged() *Refusal {
	return &Refusal{Code: "malformed", Message: "The token starts like a wharf token but is damaged or incomplete " +
		"(typically cut short when it was copied).\n" +
		"Copy the whole token again (it is one line of letters, digits, '-', '_' and '.'), or get a new one."}
}

// malformed names what the value most likely is, since "invalid token" alone
// sends people hunting in the wrong place. It never quotes the value: a
// misplaced AWS secret key is still a secret.
func malformed(v string) *Refusal {
	var what string
	switch {
	case strings.HasPrefix(v, "wharf"):
		what = "It looks like a token from a different version of wharf, which this server cannot read."
	case basicInBearer(v):
		what = "It is HTTP Basic credentials (base64 of \"aws:<token>\") sent as a token. A Bearer token (npm's _authToken) is the bare token."
	case strings.HasPrefix(v, "eyJ"):
		what = "It looks like an authorization token from AWS CodeArtifact (amazonaws.com) or another service, " +
			"not one issued by this wharf server: the AWS CLI or SDK was probably not pointed at wharf " +
			"(--endpoint-url or AWS_ENDPOINT_URL)."
	case isAccessKeyID(v):
		what = "It looks like an AWS access key ID, not an authorization token."
	case len(v) == 40 && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == "":
		what = "It looks like an AWS secret access key, not an authorization token. " +
			"Treat that key as exposed if this request went over plain HTTP or through a log."
	default:
		what = fmt.Sprintf("The %d-character value does not start with \"wharf1.\" as wharf tokens do.", len(v))
	}
	return &Refusal{Code: "malformed", Message: "This is not a token issued by this wharf server. " + what}
}

func basicInBearer(v string) bool {
	raw, err := base64.StdEncoding.DecodeString(v)
	return err == nil && strings.Contains(string(raw), ":"+tokenPrefix)
}

func isAccessKeyID(v string) bool {
	if len(v) != 20 || !(strings.HasPrefix(v, "AKIA") || strings.HasPrefix(v, "ASIA")) {
		return false
	}
	return strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == ""
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}
