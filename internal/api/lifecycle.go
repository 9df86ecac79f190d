package api

// lifecycleOps: version statuses, dispose, delete, copy, readme, and the
// generic format's publish.
func (a *API) lifecycleOps() map[string]opFunc {
	return map[string]opFunc{}
}
