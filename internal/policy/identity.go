package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Wharf has no IAM, so an access key's own (identity) permissions are one of
// a few fixed profiles, named by the IAM path of its user:
//
//	arn:aws:iam::ACCOUNT:root                  the account root: everything
//	arn:aws:iam::ACCOUNT:user/admin/NAME       codeartifact:* (and sts:GetServiceBearerToken)
//	arn:aws:iam::ACCOUNT:user/publish/NAME     read + PublishPackageVersion, PutPackageMetadata
//	arn:aws:iam::ACCOUNT:user/read/NAME        Describe*, Get*, List*, ReadFromRepository
//	arn:aws:iam::ACCOUNT:user/NAME             nothing: only what resource policies grant
//
// The profile travels in the principal ARN (the store keeps only that), in
// the SigV4 credentials and in every token the key mints, so no lookup is
// needed to know what a principal may do; resource policies name the user
// by this same ARN. Domain and repository policies then deny, or grant to
// further principals, on top.
var profiles = map[string]string{
	"admin": `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow",
		"Action":["codeartifact:*","sts:GetServiceBearerToken"],"Resource":"*"}]}`,
	"publish": `{"Version":"2012-10-17","Statement":[{"Sid":"Publish","Effect":"Allow",
		"Action":["codeartifact:Describe*","codeartifact:Get*","codeartifact:List*","codeartifact:ReadFromRepository",
		"codeartifact:PublishPackageVersion","codeartifact:PutPackageMetadata","sts:GetServiceBearerToken"],"Resource":"*"}]}`,
	"read": `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow",
		"Action":["codeartifact:Describe*","codeartifact:Get*","codeartifact:List*","codeartifact:ReadFromRepository",
		"sts:GetServiceBearerToken"],"Resource":"*"}]}`,
}

// Profiles lists the permission profiles of access keys, "none" included.
var Profiles = []string{"admin", "publish", "read", "none"}

var parsedProfiles = func() map[string]*Document {
	m := map[string]*Document{}
	for name, doc := range profiles {
		d, err := ParseIdentity(doc)
		if err != nil {
			panic(fmt.Sprintf("policy: built-in profile %s: %v", name, err))
		}
		m[name] = d
	}
	return m
}()

var userNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// UserARN is the principal of a user with a permission profile.
func UserARN(account, name, profile string) (string, error) {
	if !userNamePattern.MatchString(name) {
		return "", fmt.Errorf("user name %q: use 1 to 64 letters, digits and +=,.@_-", name)
	}
	switch {
	case profile == "none":
		return fmt.Sprintf("arn:aws:iam::%s:user/%s", account, name), nil
	case profiles[profile] != "":
		return fmt.Sprintf("arn:aws:iam::%s:user/%s/%s", account, profile, name), nil
	}
	return "", fmt.Errorf("permissions %q: choose one of %s", profile, strings.Join(Profiles, ", "))
}

// User splits a user principal ARN into its name and profile ("none" when
// it has no profile path); ok is false for anything that is not a user.
func User(principal string) (name, profile string, ok bool) {
	m := iamARNPattern.FindStringSubmatch(principal)
	if m == nil || m[3] != "user" {
		return "", "", false
	}
	rest := strings.TrimPrefix(m[2], "user/")
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return rest, "none", true
	}
	path, name := rest[:i], rest[i+1:]
	if profiles[path] == "" {
		return name, "none", true
	}
	return name, path, true
}

// Identity returns the identity policy of a principal: nil for the root
// (which needs none) and for principals without a profile.
func Identity(principal string) *Document {
	if _, profile, ok := User(principal); ok {
		return parsedProfiles[profile]
	}
	return nil
}
