package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/wharfhq/wharf/internal/client"
)

const adminUsage = `wharf admin: manage the access keys, token signing keys and token revocations of a wharf server (as its account root)

Usage:
  wharf admin create-access-key --user-name NAME --permissions read|publish|admin|none [--output json|env]
  wharf admin list-access-keys [--output json|table]
  wharf admin update-access-key --access-key-id ID --status Active|Inactive   (Inactive also revokes the key's tokens)
  wharf admin delete-access-key --access-key-id ID   (also revokes every token minted from the key)
  wharf admin rotate-token-key   (new tokens get a new signing key; tokens already issued keep working)
  wharf admin revoke-tokens [--access-key-id ID] [--principal ARN] [--before TIME]
  wharf admin list-token-revocations [--output json|table]

revoke-tokens refuses, on every replica from the next request, the tokens
issued before TIME (RFC 3339; default: now) that were minted from the access
key ID and/or by the principal ARN (both optional; --before alone revokes
every token issued before TIME). A token that leaked: delete the access key
that minted it (or revoke by --access-key-id), then mint new tokens.

Permissions are what the key may do without any permissions policy:
  read     Describe*, Get*, List* and ReadFromRepository (install packages)
  publish  read, plus PublishPackageVersion (upload packages)
  admin    every codeartifact action
  none     only what domain and repository permissions policies grant it
The key's principal is arn:aws:iam::ACCOUNT:user/PERMISSIONS/NAME (user/NAME
for none); name it so in permissions policies.

The server is called over HTTP with SigV4, signed with the root access key
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or --profile), at --endpoint-url
or WHARF_ENDPOINT_URL. The secret is shown once, when the key is created.
`

// admin talks to the server's access key endpoint rather than to the data
// directory, so it works the same against one server or many replicas and
// the master key never leaves the server.
func admin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, adminUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	fs := flag.NewFlagSet("admin "+sub, flag.ContinueOnError)
	var endpoint, region, profile string
	fs.StringVar(&endpoint, "endpoint-url", "", "wharf server URL (WHARF_ENDPOINT_URL, AWS_ENDPOINT_URL_CODEARTIFACT, AWS_ENDPOINT_URL)")
	fs.StringVar(&region, "region", "", "region to sign with (default: AWS_REGION, the profile, us-east-1)")
	fs.StringVar(&profile, "profile", "", "named profile holding the root access key (AWS_PROFILE)")
	var name, perms, id, output, principal, before, status string
	switch sub {
	case "create-access-key":
		fs.StringVar(&name, "user-name", "", "user the key belongs to (required)")
		fs.StringVar(&perms, "permissions", "", "read, publish, admin or none (required)")
		fs.StringVar(&output, "output", "json", "json, or env for AWS_ACCESS_KEY_ID=... lines")
	case "list-access-keys":
		fs.StringVar(&output, "output", "table", "table or json")
	case "delete-access-key":
		fs.StringVar(&id, "access-key-id", "", "the key to delete (required)")
	case "update-access-key":
		fs.StringVar(&id, "access-key-id", "", "the key to change (required)")
		fs.StringVar(&status, "status", "", "Active or Inactive (required)")
	case "rotate-token-key":
	case "revoke-tokens":
		fs.StringVar(&id, "access-key-id", "", "revoke the tokens minted from this access key")
		fs.StringVar(&principal, "principal", "", "revoke the tokens of this principal (arn:aws:iam::ACCOUNT:user/...)")
		fs.StringVar(&before, "before", "", "revoke the tokens issued before this time (RFC 3339; default: now)")
	case "list-token-revocations":
		fs.StringVar(&output, "output", "table", "table or json")
	default:
		fmt.Fprintf(stderr, "wharf admin: unknown command %q\n\n%s", sub, adminUsage)
		return 2
	}
	if code, ok := parse(fs, args[1:], stdout, stderr); !ok {
		return code
	}
	cmd := "admin " + sub
	ctx := context.Background()
	cl, err := client.New(ctx, client.Options{Endpoint: endpoint, Region: region, Profile: profile})
	if err != nil {
		return fail(stderr, cmd, err)
	}
	var out struct {
		AccessKey  adminKey   `json:"accessKey"`
		AccessKeys []adminKey `json:"accessKeys"`
	}
	switch sub {
	case "create-access-key":
		if name == "" || perms == "" {
			fmt.Fprintf(stderr, "wharf %s: --user-name and --permissions are required\n", cmd)
			return 2
		}
		if output != "json" && output != "env" {
			fmt.Fprintf(stderr, "wharf %s: --output must be json or env\n", cmd)
			return 2
		}
		if err := cl.Do(ctx, http.MethodPost, "/wharf/v1/access-keys", url.Values{"userName": {name}, "permissions": {perms}}, &out); err != nil {
			return fail(stderr, cmd, err)
		}
		k := out.AccessKey
		if output == "env" {
			fmt.Fprintf(stdout, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", k.AccessKeyID, k.Secret)
			return 0
		}
		return printJSON(stdout, map[string]any{"AccessKey": k.iam(true)})
	case "list-access-keys":
		if err := cl.Do(ctx, http.MethodGet, "/wharf/v1/access-keys", nil, &out); err != nil {
			return fail(stderr, cmd, err)
		}
		if output == "json" {
			list := make([]map[string]string, 0, len(out.AccessKeys))
			for _, k := range out.AccessKeys {
				list = append(list, k.iam(false))
			}
			return printJSON(stdout, map[string]any{"AccessKeys": list})
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCESS KEY ID\tUSER\tPERMISSIONS\tSTATUS\tCREATED\tPRINCIPAL")
		for _, k := range out.AccessKeys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.AccessKeyID, k.UserName, k.Permissions, k.Status, k.CreatedAt, k.Principal)
		}
		tw.Flush()
		return 0
	case "update-access-key":
		if id == "" || (status != "Active" && status != "Inactive") {
			fmt.Fprintf(stderr, "wharf %s: --access-key-id and --status Active|Inactive are required\n", cmd)
			return 2
		}
		if err := cl.Do(ctx, http.MethodPut, "/wharf/v1/access-keys", url.Values{"accessKeyId": {id}, "status": {status}}, &out); err != nil {
			return fail(stderr, cmd, err)
		}
		note := ""
		if status == "Inactive" {
			note = "; the tokens minted from it are revoked"
		}
		fmt.Fprintf(stdout, "access key %s of %s is %s%s\n", out.AccessKey.AccessKeyID, out.AccessKey.Principal, out.AccessKey.Status, note)
		return 0
	case "revoke-tokens", "list-token-revocations":
		return revocations(ctx, cl, cmd, sub, id, principal, before, output, stdout, stderr)
	case "rotate-token-key":
		var rot struct {
			CurrentKeyID string `json:"currentKeyId"`
		}
		if err := cl.Do(ctx, http.MethodPost, "/wharf/v1/token-keys", nil, &rot); err != nil {
			return fail(stderr, cmd, err)
		}
		fmt.Fprintf(stdout, "new tokens are signed with key %s; tokens signed before keep working until they expire\n", rot.CurrentKeyID)
		return 0
	default: // delete-access-key
		if id == "" {
			fmt.Fprintf(stderr, "wharf %s: --access-key-id is required\n", cmd)
			return 2
		}
		if err := cl.Do(ctx, http.MethodDelete, "/wharf/v1/access-keys", url.Values{"accessKeyId": {id}}, &out); err != nil {
			return fail(stderr, cmd, err)
		}
		fmt.Fprintf(stdout, "deleted access key %s of %s\n", out.AccessKey.AccessKeyID, out.AccessKey.Principal)
		return 0
	}
}

type adminKey struct {
	UserName    string `json:"userName"`
	Permissions string `json:"permissions"`
	Principal   string `json:"principal"`
	AccessKeyID string `json:"accessKeyId"`
	Secret      string `json:"secretAccessKey"`
	CreatedAt   string `json:"createdAt"`
	Status      string `json:"status"`
}

// iam is the key in the shape of `aws iam create-access-key` / list-access-keys.
func (k adminKey) iam(withSecret bool) map[string]string {
	m := map[string]string{"UserName": k.UserName, "Permissions": k.Permissions, "Arn": k.Principal,
		"AccessKeyId": k.AccessKeyID, "Status": k.Status, "CreateDate": k.CreatedAt}
	if withSecret {
		m["SecretAccessKey"] = k.Secret
	}
	return m
}

func printJSON(w io.Writer, v any) int {
	b, _ := json.MarshalIndent(v, "", "    ")
	fmt.Fprintf(w, "%s\n", b)
	return 0
}

type adminRevocation struct {
	AccessKeyID  string `json:"accessKeyId"`
	Principal    string `json:"principal"`
	IssuedBefore string `json:"issuedBefore"`
	Reason       string `json:"reason"`
	CreatedAt    string `json:"createdAt"`
}

// revocations runs revoke-tokens and list-token-revocations.
func revocations(ctx context.Context, cl *client.Client, cmd, sub, id, principal, before, output string, stdout, stderr io.Writer) int {
	var out struct {
		Revocation  adminRevocation   `json:"revocation"`
		Revocations []adminRevocation `json:"revocations"`
	}
	if sub == "revoke-tokens" {
		if id == "" && principal == "" && before == "" {
			fmt.Fprintf(stderr, "wharf %s: say which tokens to revoke: --access-key-id, --principal and/or --before TIME\n", cmd)
			return 2
		}
		q := url.Values{}
		for k, v := range map[string]string{"accessKeyId": id, "principal": principal, "before": before} {
			if v != "" {
				q.Set(k, v)
			}
		}
		if err := cl.Do(ctx, http.MethodPost, "/wharf/v1/token-revocations", q, &out); err != nil {
			return fail(stderr, cmd, err)
		}
		rv := out.Revocation
		which := "every token"
		if rv.AccessKeyID != "" {
			which += " minted from access key " + rv.AccessKeyID
		}
		if rv.Principal != "" {
			which += " of " + rv.Principal
		}
		fmt.Fprintf(stdout, "revoked %s issued before %s\n", which, rv.IssuedBefore)
		return 0
	}
	if output != "json" && output != "table" {
		fmt.Fprintf(stderr, "wharf %s: --output must be table or json\n", cmd)
		return 2
	}
	if err := cl.Do(ctx, http.MethodGet, "/wharf/v1/token-revocations", nil, &out); err != nil {
		return fail(stderr, cmd, err)
	}
	if output == "json" {
		return printJSON(stdout, map[string]any{"Revocations": out.Revocations})
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ISSUED BEFORE\tACCESS KEY ID\tPRINCIPAL\tREASON")
	for _, r := range out.Revocations {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.IssuedBefore, orDash(r.AccessKeyID), orDash(r.Principal), r.Reason)
	}
	tw.Flush()
	return 0
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
