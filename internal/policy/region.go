package policy

import "strings"

// Wharf answers for one region label (WHARF_REGION, which an administrator
// may change) while clients build ARNs from their own region: the SDKs sign
// TagResource with an ARN in the client's region, and a policy carries the
// ARN describe-repository printed before a relabel. A resource is the same
// whatever region its ARN names, so resources are compared with the region
// field left out, in policies (here) and in the store's keys (Key).

// withoutRegion empties the region field (the fourth) of an ARN or of an
// ARN pattern. A pattern whose first three fields hold a wildcard is left
// as written: its fourth field need not be the region.
func withoutRegion(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 5 || strings.ContainsAny(strings.Join(parts[:3], ":"), "*?") || parts[3] == "" {
		return s
	}
	parts[3] = ""
	return strings.Join(parts, ":")
}

// matchResource reports whether an ARN pattern names the resource arn, in
// whatever region either is written.
func matchResource(pattern, arn string) bool {
	return Match(pattern, arn, false) || Match(withoutRegion(pattern), withoutRegion(arn), false)
}
