package doctor

import "strconv"

// What each client version reads, in one place: `wharf login` writes by
// these rules and `wharf doctor` checks by them. Each was seen with the real
// client (test/clients/loginfix_*_test.go runs the oldest and newest tested).

// PoetryExplicitKey is the line of a [[tool.poetry.source]] that keeps
// poetry from asking the source for anything not pinned to it. poetry added
// `priority` in 1.5; 1.3.2 refuses the whole pyproject.toml when it sees it
// ("[source.0] Additional properties are not allowed ('priority' was
// unexpected)"), and knows only `secondary = true` (ask PyPI first), which
// poetry 2 refuses in turn ("tool.poetry.source[0] must not contain
// {'secondary'} properties").
func PoetryExplicitKey(v ClientVersion) string {
	if v.Before(1, 5) {
		return "secondary = true"
	}
	return `priority = "explicit"`
}

// poetryRefusedKey is a source key the given poetry refuses, with the
// words poetry refuses it with; "" when it knows every key.
func poetryRefusedKey(v ClientVersion, source map[string]any, i int) (key, says string) {
	switch {
	case v.Before(1, 5):
		if _, ok := source["priority"]; ok {
			return "priority", "The Poetry configuration is invalid: [source." + strconv.Itoa(i) + "] Additional properties are not allowed ('priority' was unexpected)"
		}
	case !v.Before(2, 0):
		for _, k := range []string{"secondary", "default"} {
			if _, ok := source[k]; ok {
				return k, "The Poetry configuration is invalid: tool.poetry.source[" + strconv.Itoa(i) + "] must not contain {'" + k + "'} properties"
			}
		}
	}
	return "", ""
}

// PDMReadsStoredCredentials says whether pdm takes a source's credentials
// from its config files ([pypi.NAME] username/password) and from the
// username/password keys of [[tool.pdm.source]]. pdm 2.5 merged the config
// file's indexes into the project's sources by name; pdm 2.2.1 reads only
// the source URL's userinfo (with ${VAR} expanded) and answers "The
// credentials for HOST are not provided" otherwise.
func PDMReadsStoredCredentials(v ClientVersion) bool { return !v.Before(2, 5) }

// PDMTokenVariable is the variable `wharf login --tool pdm` names in the
// source URL for pdm before 2.5: WHARF_PDM_<NAME>_TOKEN, NAME as for uv.
func PDMTokenVariable(source string) string { return "WHARF_PDM_" + UVEnvName(source) + "_TOKEN" }
