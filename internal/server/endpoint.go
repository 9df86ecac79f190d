package server

import "strings"

// matchEndpoint returns what endpointPath.FindStringSubmatch(path) returns
// (the path, domain, owner, format, repository and rest), without running
// the regexp on every data-plane request (it was a twentieth of serving a
// cached index page). FuzzMatchEndpoint holds the two equal.
func matchEndpoint(path string) []string {
	if !strings.HasPrefix(path, "/") {
		return nil
	}
	label, after, ok := strings.Cut(path[1:], "/")
	// label is DOMAIN-OWNER: a 12-digit owner after the last '-'.
	if !ok || len(label) < 2+1+12 || label[len(label)-13] != '-' {
		return nil
	}
	domain, owner := label[:len(label)-13], label[len(label)-12:]
	if len(domain) > 50 || !isLower(domain[0]) || !(isLower(domain[len(domain)-1]) || isDigit(domain[len(domain)-1])) {
		return nil
	}
	for i := 1; i < len(domain)-1; i++ {
		if c := domain[i]; !isLower(c) && !isDigit(c) && c != '-' {
			return nil
		}
	}
	for i := 0; i < len(owner); i++ {
		if !isDigit(owner[i]) {
			return nil
		}
	}
	format, after, ok := strings.Cut(after, "/")
	if !ok || format == "" {
		return nil
	}
	for i := 0; i < len(format); i++ {
		if !isLower(format[i]) {
			return nil
		}
	}
	repo, rest := after, ""
	if i := strings.IndexByte(after, '/'); i >= 0 {
		repo, rest = after[:i], after[i:]
	}
	if len(repo) < 2 || len(repo) > 100 || !isAlnum(repo[0]) {
		return nil
	}
	for i := 1; i < len(repo); i++ {
		if c := repo[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return nil
		}
	}
	if strings.IndexByte(rest, '\n') >= 0 { // '.' in the regexp stops at newlines
		return nil
	}
	return []string{path, domain, owner, format, repo, rest}
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) || 'A' <= c && c <= 'Z' }
