// Package sigv4 verifies AWS Signature Version 4 requests as AWS services do,
// so that the aws CLI, boto3 and the AWS SDKs can call wharf unchanged. The
// canonical request follows botocore (auth.py, SigV4Auth) and aws-sdk-go-v2
// (aws/signer/v4) where the specification leaves room.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	maxPresignAge   = 7 * 24 * time.Hour
)

// Credentials are an access key and who it belongs to.
type Credentials struct {
	AccessKeyID, Secret, Principal string
}

// Lookup finds the credentials of an access key id.
type Lookup func(accessKeyID string) (Credentials, bool)

// Verifier checks SigV4 signatures. The zero values of MaxSkew, MaxBody,
// MaxUnverified, MaxStreamed and Now mean 5 minutes, 1 MiB, 32 MiB, 5 GiB
// and time.Now; an empty Service means "codeartifact".
type Verifier struct {
	Service string
	Lookup  Lookup
	MaxSkew time.Duration
	// MaxBody bounds the body of a request that does not state its
	// payload hash, which must be read before its signature is checked.
	MaxBody int64
	// MaxUnverified bounds the bytes so read for all requests at once; a
	// request that would go beyond is refused with ThrottlingException.
	MaxUnverified int64
	// MaxStreamed bounds what VerifyStreamed reads to tell a wrong asset
	// hash from a forged signature.
	MaxStreamed int64
	Now         func() time.Time

	unverified budget
}

// Error is a refusal in the shape of an AWS error: Code goes to the
// x-amzn-ErrorType header, Message to the JSON body. Message never holds a
// secret nor the signature the server expected.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Status: http.StatusForbidden, Message: fmt.Sprintf(format, args...)}
}

const (
	missingToken      = "MissingAuthenticationTokenException"
	incomplete        = "IncompleteSignatureException"
	unrecognized      = "UnrecognizedClientException"
	invalidSignature  = "InvalidSignatureException"
	howToSetKeys      = "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use a profile) to an access key of this wharf server, for example WHARF_ROOT_ACCESS_KEY_ID and its secret."
	signatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// authorization is what a request says about its signature, from the
// Authorization header or from a presigned URL's query.
type authorization struct {
	AccessKeyID, Date, Region, Service string // credential scope
	SignedHeaders                      []string
	Signature                          string
}

// Verify checks r's signature and returns the caller's credentials. A
// request that states its payload hash in X-Amz-Content-SHA256 is verified
// without reading the body: r.Body is replaced by a reader whose last read
// fails with a *BodyMismatchError if the bytes do not match, so the handler
// must read the body to the end before committing anything. A request that
// does not state it has its body read (bounded, see body.go) and put back.
// UNSIGNED-PAYLOAD is refused: use VerifyStreamed where the body is an asset.
// On failure the error is an *Error.
func (v *Verifier) Verify(r *http.Request) (Credentials, error) {
	return v.verifyAs(r, false)
}

// VerifyStreamed is Verify for an operation whose body is an asset streamed
// to storage and whose X-Amz-Content-SHA256 header states the asset's hash
// (PublishPackageVersion). Two more signings are then genuine:
//
//   - the signature covers UNSIGNED-PAYLOAD while the signed header states
//     the hash (the Go SDK's way to stream an unseekable body): the body is
//     still checked against the header as it is read;
//   - the signature covers the body's actual hash while the header states
//     another (the Go SDK signs the hash it computes, and sends the caller's
//     assetSHA256): the body is read to find out, and the answer is a
//     *BodyMismatchError with the credentials, since the caller is genuine
//     and only the asset hash is wrong.
func (v *Verifier) VerifyStreamed(r *http.Request) (Credentials, error) {
	return v.verifyAs(r, true)
}

func (v *Verifier) verifyAs(r *http.Request, streamed bool) (Credentials, error) {
	c, mismatch, e := v.verify(r, streamed)
	if e != nil {
		return Credentials{}, e
	}
	if mismatch != nil {
		return c, mismatch
	}
	return c, nil
}

func (v *Verifier) verify(r *http.Request, streamed bool) (Credentials, *BodyMismatchError, *Error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	service := v.Service
	if service == "" {
		service = "codeartifact"
	}

	query := r.URL.Query()
	header := r.Header.Get("Authorization")
	presigned := header == "" && query.Get("X-Amz-Algorithm") != ""
	var a authorization
	var e *Error
	var stamp string
	var expires time.Duration
	switch {
	case presigned:
		a, stamp, expires, e = parsePresigned(query)
	case header == "":
		return Credentials{}, nil, fail(missingToken, "Missing Authentication Token. The request is not signed: sign it with AWS Signature Version 4 (the aws CLI and SDKs do, unless --no-sign-request is given). %s", howToSetKeys)
	default:
		a, e = parseAuthorization(header)
		if e == nil {
			stamp, e = requestDate(r)
		}
	}
	if e != nil {
		return Credentials{}, nil, e
	}
	if a.Service != service {
		return Credentials{}, nil, fail(invalidSignature, "Credential should be scoped to correct service: '%s'. The request was signed for service %q: use the %s client (aws %s ..., boto3.client(%q)).", service, a.Service, service, service, service)
	}
	signed, e := parseStamp(stamp)
	if e != nil {
		return Credentials{}, nil, e
	}
	if stamp[:8] != a.Date {
		return Credentials{}, nil, fail(invalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, stamp[:8], stamp)
	}
	if e := v.checkTime(signed, now().UTC(), presigned, expires); e != nil {
		return Credentials{}, nil, e
	}
	var creds Credentials
	var ok bool
	if v.Lookup != nil {
		creds, ok = v.Lookup(a.AccessKeyID)
	}
	if !ok {
		return Credentials{}, nil, unknownKey(a.AccessKeyID)
	}

	// Everything above was checked without reading the body; what follows
	// reads it only when the signature cannot be checked otherwise.
	sig := newSignature(r, a, stamp, presigned, creds.Secret)
	stated := r.Header.Get("X-Amz-Content-SHA256")
	switch {
	case stated == unsignedPayload && !streamed:
		return Credentials{}, nil, fail(invalidSignature, "X-Amz-Content-SHA256 is UNSIGNED-PAYLOAD, which this server accepts only for PublishPackageVersion, where the asset is checked against assetSHA256. Sign the body: the aws CLI and the SDKs do unless payload signing is turned off.")
	case stated == unsignedPayload:
		// The handler validates assetSHA256, which this header is.
		if sig.matches(unsignedPayload) {
			return creds, nil, nil
		}
	case stated != "" && !isHexSHA256(stated):
		return Credentials{}, nil, fail(incomplete, "X-Amz-Content-SHA256 must be the hex SHA-256 of the body or UNSIGNED-PAYLOAD; streaming (chunk-signed) payloads are not supported.")
	case stated != "":
		if sig.matches(stated) {
			r.Body = checkBody(r.Body, stated)
			return creds, nil, nil
		}
		if streamed && sig.signs("x-amz-content-sha256") {
			if sig.matches(unsignedPayload) {
				r.Body = checkBody(r.Body, stated)
				return creds, nil, nil
			}
			actual, e := v.hashUnverified(r)
			if e != nil {
				return Credentials{}, nil, e
			}
			if actual != strings.ToLower(stated) && sig.matches(actual) {
				return creds, &BodyMismatchError{Stated: strings.ToLower(stated), Actual: actual}, nil
			}
		}
	default:
		body, release, e := v.readUnverified(r)
		defer release()
		if e != nil {
			return Credentials{}, nil, e
		}
		if sig.matches(hexSHA256(body)) {
			return creds, nil, nil
		}
	}
	return Credentials{}, nil, sig.mismatch()
}

// unknownKey refuses an access key id this server does not know. It quotes
// the id only when it looks like one: with the two variables swapped, the
// "id" is the secret access key, which must not reach the client or the log.
func unknownKey(id string) *Error {
	if looksLikeAccessKeyID(id) {
		return fail(unrecognized, "The security token included in the request is invalid. The access key ID %q is not known to this wharf server: check AWS_ACCESS_KEY_ID (or the aws profile in use) against the access keys of this server (WHARF_ROOT_ACCESS_KEY_ID).", id)
	}
	return fail(unrecognized, "The security token included in the request is invalid. The access key ID (%d characters, not shown) is not known to this wharf server, and it does not look like an access key ID (those are upper-case letters and digits): check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not swapped, and treat the secret as exposed if this request went over plain HTTP.", len(id))
}

// looksLikeAccessKeyID: AWS issues access key ids of upper-case letters and
// digits (AKIA..., ASIA...), and so does wharf; secret access keys have
// lower-case letters, '/' and '+'.
func looksLikeAccessKeyID(id string) bool {
	return len(id) >= 4 && len(id) <= 128 && strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// signature is what the request signs except the payload hash, so that the
// candidate payload hashes can be tried without building it again.
type signature struct {
	r                  *http.Request
	a                  authorization
	uris               []string
	query, headers     string
	missing            []string
	scope, stamp       string
	key, want          []byte
	shown, shownToSign string // the first candidate, botocore's form, reported on a mismatch
}

func newSignature(r *http.Request, a authorization, stamp string, presigned bool, secret string) *signature {
	s := &signature{r: r, a: a, uris: canonicalURIs(r), query: canonicalQuery(r.URL.RawQuery, presigned), stamp: stamp,
		scope: a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request", key: signingKey(secret, a.Date, a.Region, a.Service)}
	s.headers, s.missing = canonicalHeaders(r, a.SignedHeaders)
	s.want, _ = hex.DecodeString(a.Signature)
	return s
}

func (s *signature) signs(header string) bool {
	for _, h := range s.a.SignedHeaders {
		if h == header {
			return true
		}
	}
	return false
}

func (s *signature) matches(payloadHash string) bool {
	for _, path := range s.uris {
		canonical := strings.Join([]string{s.r.Method, path, s.query, s.headers, strings.Join(s.a.SignedHeaders, ";"), payloadHash}, "\n")
		toSign := algorithm + "\n" + s.stamp + "\n" + s.scope + "\n" + hexSHA256([]byte(canonical))
		if hmac.Equal(hmacSHA256(s.key, toSign), s.want) {
			return true
		}
		if s.shown == "" {
			s.shown, s.shownToSign = canonical, toSign
		}
	}
	return false
}

func (s *signature) mismatch() *Error {
	msg := signatureMismatch
	if len(s.missing) > 0 {
		msg += fmt.Sprintf(" The signed header(s) %s are missing from the request as received: a proxy may have removed them.", strings.Join(s.missing, ", "))
	}
	return fail(invalidSignature, "%s\n\nThe Canonical String for this request should have been\n'%s'\n\nThe String-to-Sign should have been\n'%s'\n", msg, redact(s.shown), s.shownToSign)
}

func (v *Verifier) checkTime(signed, now time.Time, presigned bool, expires time.Duration) *Error {
	skew := v.MaxSkew
	if skew <= 0 {
		skew = 5 * time.Minute
	}
	f := func(t time.Time) string { return t.Format(amzDateFormat) }
	span := fmt.Sprintf("%d min.", int(skew.Minutes()))
	if skew%time.Minute != 0 {
		span = skew.String()
	}
	if presigned {
		if now.After(signed.Add(expires)) {
			return fail("AccessDeniedException", "Request has expired: the presigned URL was signed at %s and was valid for %d seconds (until %s); it is now %s.", f(signed), int(expires.Seconds()), f(signed.Add(expires)), f(now))
		}
	} else if signed.Before(now.Add(-skew)) {
		// botocore and the AWS SDKs recognize AWS's wording and retry with a corrected clock.
		return fail(invalidSignature, "Signature expired: %s is now earlier than %s (%s - %s)", f(signed), f(now.Add(-skew)), f(now), span)
	}
	if signed.After(now.Add(skew)) {
		return fail(invalidSignature, "Signature not yet current: %s is still later than %s (%s + %s)", f(signed), f(now.Add(skew)), f(now), span)
	}
	return nil
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (authorization, *Error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		what := "an authorization scheme this API does not accept"
		switch {
		case strings.EqualFold(alg, "Bearer") || strings.EqualFold(alg, "Basic"):
			what = "a " + alg + " credential: authorization tokens are for package endpoints, not for the CodeArtifact API"
		case alg == "AWS" || alg == "AWS4-HMAC-SHA1" || alg == "AWS4-ECDSA-P256-SHA256":
			what = "the unsupported signature algorithm " + alg
		}
		return authorization{}, fail(incomplete, "The Authorization header holds %s. Requests must be signed with AWS Signature Version 4 (AWS4-HMAC-SHA256). %s", what, howToSetKeys)
	}
	params := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || params[k] != "" || v == "" {
			return authorization{}, fail(incomplete, "Authorization header is malformed: each of its parameters must appear once as Name=value, separated by commas.")
		}
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, "Authorization header requires '"+k+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return authorization{}, fail(incomplete, "%s", strings.Join(missing, " "))
	}
	return newAuthorization(params["Credential"], params["SignedHeaders"], params["Signature"], "Authorization header")
}

func newAuthorization(credential, signedHeaders, signature, where string) (authorization, *Error) {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" || parts[4] != "aws4_request" || !digits(parts[1], 8) {
		return authorization{}, fail(incomplete, "%s: the Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.", where)
	}
	a := authorization{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3],
		SignedHeaders: strings.Split(signedHeaders, ";")}
	seen := map[string]bool{}
	for _, h := range a.SignedHeaders {
		if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, " \t:") || seen[h] {
			return authorization{}, fail(incomplete, "%s: SignedHeaders must be lower-case header names without repetition, separated by ';'.", where)
		}
		seen[h] = true
		if h == "authorization" {
			return authorization{}, fail(incomplete, "%s: the Authorization header cannot sign itself.", where)
		}
	}
	if !seen["host"] {
		return authorization{}, fail(incomplete, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if len(signature) != 64 || strings.Trim(signature, "0123456789abcdef") != "" {
		return authorization{}, fail(incomplete, "%s: the Signature must be 64 lower-case hexadecimal digits.", where)
	}
	a.Signature = signature
	return a, nil
}

func parsePresigned(q url.Values) (authorization, string, time.Duration, *Error) {
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return authorization{}, "", 0, fail(incomplete, "X-Amz-Algorithm only supports \"%s\".", algorithm)
	}
	var missing []string
	for _, k := range []string{"X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date", "X-Amz-Expires"} {
		if len(q[k]) != 1 || q[k][0] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return authorization{}, "", 0, fail(incomplete, "A presigned URL requires each of these query parameters exactly once: %s.", strings.Join(missing, ", "))
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > maxPresignAge {
		return authorization{}, "", 0, fail("AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds between 1 and %d.", int(maxPresignAge.Seconds()))
	}
	a, e := newAuthorization(q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), "Presigned URL")
	return a, q.Get("X-Amz-Date"), time.Duration(secs) * time.Second, e
}

// requestDate returns the signing time in AWS's basic ISO 8601 format. A
// client that sends Date instead of X-Amz-Date signs with the same second.
func requestDate(r *http.Request) (string, *Error) {
	if d := r.Header.Get("X-Amz-Date"); d != "" {
		return d, nil
	}
	if d := r.Header.Get("Date"); d != "" {
		t, err := http.ParseTime(d)
		if err != nil {
			// botocore writes email.utils.formatdate: "Fri, 27 Nov 2026 11:20:00 -0000".
			t, err = time.Parse(time.RFC1123Z, d)
		}
		if err != nil {
			return "", fail(incomplete, "The Date header is not an HTTP date; send X-Amz-Date as YYYYMMDD'T'HHMMSS'Z' instead.")
		}
		return t.UTC().Format(amzDateFormat), nil
	}
	return "", fail(incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

func parseStamp(s string) (time.Time, *Error) {
	t, err := time.Parse(amzDateFormat, s)
	if err != nil || len(s) != len(amzDateFormat) {
		return time.Time{}, fail(incomplete, "The signing date must be in the form YYYYMMDD'T'HHMMSS'Z' (X-Amz-Date).")
	}
	return t, nil
}

// canonicalURIs returns the canonical URI as botocore computes it (dot
// segments and empty segments removed, then the already-encoded path encoded
// again) and, when different, as aws-sdk-go-v2 does (encoded again only).
// Either proves the key; the handler routes on the path as received anyway.
func canonicalURIs(r *http.Request) []string {
	raw := r.URL.EscapedPath()
	if strings.HasPrefix(r.RequestURI, "/") {
		raw, _, _ = strings.Cut(r.RequestURI, "?")
	}
	if raw == "" {
		raw = "/"
	}
	boto, sdk := escape(removeDotSegments(raw), true), escape(raw, true)
	if boto == sdk {
		return []string{boto}
	}
	return []string{boto, sdk}
}

// removeDotSegments is botocore.utils.remove_dot_segments, which also drops
// empty segments ("//").
func removeDotSegments(p string) string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	res := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") {
		res = "/" + res
	}
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		res += "/"
	}
	return res
}

// escape is SigV4's URI encoding: everything but A-Z a-z 0-9 - _ . ~ as %XX,
// and '/' too unless keepSlash.
func escape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && keepSlash {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// canonicalQuery decodes each name and value and encodes it again the SigV4
// way, then sorts by name and value. For the encodings botocore and the Go
// SDK send, that is the query string as sent, sorted. '+' is a space, as the
// handler's url.Values sees it, so what was signed is what is used.
func canonicalQuery(raw string, presigned bool) string {
	type pair struct{ k, v string }
	var pairs []pair
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{escape(k, false), escape(v, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// canonicalHeaders builds the canonical header block (with its final newline)
// and names the signed headers absent from the request.
func canonicalHeaders(r *http.Request, names []string) (string, []string) {
	var b strings.Builder
	var missing []string
	for _, name := range names {
		var values []string
		switch name {
		case "host":
			// net/http moves Host out of the header map.
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			values = []string{host}
		default:
			values = r.Header.Values(name)
			if len(values) == 0 && name == "content-length" && r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		}
		if len(values) == 0 {
			missing = append(missing, name)
		}
		b.WriteString(name + ":")
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			// botocore: ' '.join(value.split()), the spec's Trimall.
			b.WriteString(strings.Join(strings.Fields(v), " "))
		}
		b.WriteByte('\n')
	}
	return b.String(), missing
}

// redact hides the one secret that can appear in a canonical request.
func redact(canonical string) string {
	lines := strings.Split(canonical, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "x-amz-security-token:") {
			lines[i] = "x-amz-security-token:<redacted>"
		}
		if strings.HasPrefix(l, "X-Amz-Security-Token=") || strings.Contains(l, "&X-Amz-Security-Token=") {
			lines[i] = "<query string redacted: it holds X-Amz-Security-Token>"
		}
	}
	return strings.Join(lines, "\n")
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func digits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}
