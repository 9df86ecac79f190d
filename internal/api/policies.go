package api

// policyOps: domain and repository permission policies, and tags.
func (a *API) policyOps() map[string]opFunc {
	return map[string]opFunc{}
}
