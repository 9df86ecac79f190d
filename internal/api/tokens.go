package api

import (
	"context"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/registry"
)

// Token lifetimes (GetAuthorizationToken's durationSeconds).
const (
	defaultTokenDuration = 12 * time.Hour
	minTokenDuration     = 15 * time.Minute
)

func (a *API) getAuthorizationToken(ctx context.Context, c *call) (any, error) {
	owner, err := a.owner(c)
	if err != nil {
		return nil, err
	}
	domain := c.in.String("domain")
	if _, err := a.reg.GetDomain(ctx, owner, domain); err != nil {
		return nil, err
	}
	// 0 means "as long as the caller's session"; wharf's credentials are
	// long-term, so 0 gets the default, as it does in AWS for IAM users.
	d := time.Duration(c.in.Int("durationSeconds", 0)) * time.Second
	switch {
	case d == 0:
		d = defaultTokenDuration
	case d < minTokenDuration:
		return nil, registry.Invalid("durationSeconds must be 0 or between 900 and 43200; %d is too short", int64(d/time.Second))
	}
	// IssuedAt keeps microseconds (a revocation "before now" must spare a
	// token minted just after it); the expiry is whole seconds, as returned.
	issued := a.cfg.Now().UTC()
	now := issued.Truncate(time.Second)
	tok, err := a.cfg.Tokens.Mint(auth.Claims{
		DomainOwner: owner, Domain: domain, Principal: c.caller.Principal,
		AccessKeyID: c.caller.AccessKeyID, // deleting the key revokes the token
		IssuedAt:    issued, ExpiresAt: now.Add(d),
	})
	if err != nil {
		return nil, err
	}
	// Never log the token itself.
	a.cfg.Log.Info("authorization token issued", "domain", domain, "owner", owner, "principal", c.caller.Principal, "expires", now.Add(d).Format(time.RFC3339))
	return map[string]any{"authorizationToken": tok, "expiration": epoch(now.Add(d))}, nil
}
