package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/wharfhq/wharf/internal/policy"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
)

// maxTags is CodeArtifact's quota of tags per resource.
const maxTags = 50

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// taggable resolves a resourceArn to a domain, repository or package group
// of this wharf that exists.
func (a *API) taggable(ctx context.Context, arn string) error {
	r, err := policy.ParseARN(arn)
	if err != nil {
		return registry.Invalid("resourceArn: %v", err)
	}
	if r.Type == "package" {
		return registry.Invalid("resourceArn %s: packages cannot be tagged; tag a domain, repository or package group", arn)
	}
	if r.Account != a.cfg.AccountID {
		return registry.NotFound("", arn, "%s not found: this wharf holds the resources of account %s", arn, a.cfg.AccountID)
	}
	switch r.Type {
	case "domain":
		_, err = a.reg.GetDomain(ctx, r.Account, r.Domain)
	case "repository":
		_, err = a.reg.GetRepository(ctx, r.Account, r.Domain, r.Repository)
	case "package-group":
		if _, err = a.reg.GetDomain(ctx, r.Account, r.Domain); err == nil {
			pattern, uerr := url.PathUnescape(r.Rest) // package-group ARNs escape * ~ $
			if uerr != nil {
				return registry.Invalid("resourceArn %s: the package group pattern is not properly escaped", arn)
			}
			_, err = a.reg.Store().GetPackageGroup(ctx, r.Account, r.Domain, pattern)
			if errors.Is(err, store.ErrNotFound) {
				err = registry.NotFound("", arn, "package group %s not found in domain %s", r.Rest, r.Domain)
			}
		}
	}
	return err
}

// parseTags reads a TagList member, refusing what AWS refuses.
func parseTags(list []any) (map[string]string, error) {
	tags := map[string]string{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		k, _ := m["key"].(string)
		v, _ := m["value"].(string)
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, registry.Invalid("tag key %q: keys starting with aws: are reserved", k)
		}
		if _, dup := tags[k]; dup {
			return nil, registry.Invalid("tag key %q appears twice in the request", k)
		}
		tags[k] = v
	}
	if len(tags) > maxTags {
		return nil, &apiError{Code: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired,
			Message: fmt.Sprintf("%d tags given; a resource has at most %d", len(tags), maxTags)}
	}
	return tags, nil
}

// addTags stores tags on arn within the per-resource quota.
func (a *API) addTags(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	key, err := a.tagKey(ctx, arn)
	if err != nil {
		return err
	}
	cur, err := a.reg.Store().GetTags(ctx, key)
	if err != nil {
		return err
	}
	n := len(cur)
	for k := range tags {
		if _, ok := cur[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return &apiError{Code: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired, ResourceID: arn,
			Message: fmt.Sprintf("%s would have %d tags; a resource has at most %d: remove some with untag-resource first", arn, n, maxTags)}
	}
	return a.reg.Store().SetTags(ctx, key, tags, nil)
}

func (a *API) tagResource(ctx context.Context, c *call) (any, error) {
	arn := c.in.String("resourceArn")
	tags, err := parseTags(c.in.List("tags"))
	if err != nil {
		return nil, err
	}
	if err := a.taggable(ctx, arn); err != nil {
		return nil, err
	}
	if err := a.addTags(ctx, arn, tags); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (a *API) untagResource(ctx context.Context, c *call) (any, error) {
	arn := c.in.String("resourceArn")
	if err := a.taggable(ctx, arn); err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range c.in.List("tagKeys") {
		if s, ok := k.(string); ok {
			keys = append(keys, s)
		}
	}
	key, err := a.tagKey(ctx, arn)
	if err != nil {
		return nil, err
	}
	if err := a.reg.Store().SetTags(ctx, key, nil, keys); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, c *call) (any, error) {
	arn := c.in.String("resourceArn")
	if err := a.taggable(ctx, arn); err != nil {
		return nil, err
	}
	key, err := a.tagKey(ctx, arn)
	if err != nil {
		return nil, err
	}
	tags, err := a.reg.Store().GetTags(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return map[string]any{"tags": out}, nil
}

// tagKey is where arn's tags are stored: the ARN without its region
// (policy.Key), so that they do not depend on WHARF_REGION nor on the
// region a client built the ARN in. Tags stored before under the ARN in the
// server's region are moved there on first use.
func (a *API) tagKey(ctx context.Context, arn string) (string, error) {
	st := a.reg.Store()
	key := policy.Key(arn)
	legacy := inRegion(key, a.cfg.Region)
	old, err := st.GetTags(ctx, legacy)
	if err != nil || len(old) == 0 || legacy == key {
		return key, err
	}
	cur, err := st.GetTags(ctx, key)
	if err != nil {
		return key, err
	}
	moved := map[string]string{}
	for k, v := range old {
		if _, ok := cur[k]; !ok {
			moved[k] = v
		}
	}
	if err := st.SetTags(ctx, key, moved, nil); err != nil {
		return key, err
	}
	return key, st.SetTags(ctx, legacy, nil, keysOf(old))
}

// inRegion puts region into a region-less ARN.
func inRegion(key, region string) string {
	parts := strings.SplitN(key, ":", 6)
	if len(parts) != 6 {
		return key
	}
	parts[3] = region
	return strings.Join(parts, ":")
}

func keysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
