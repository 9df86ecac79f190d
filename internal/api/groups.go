package api

// groupOps: package groups.
func (a *API) groupOps() map[string]opFunc {
	return map[string]opFunc{}
}
