package pypi

import "fmt"

// Format tells the registry core the pypi rules it needs (registry.Format).
type Format struct{}

func (Format) Name() string { return "pypi" }

// NormalizeName: pypi has no namespaces; names are stored PEP 503-normalized.
func (Format) NormalizeName(namespace, name string) (string, string, error) {
	if namespace != "" {
		return "", "", fmt.Errorf("pypi packages have no namespace (got %q); leave --namespace out", namespace)
	}
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	return "", NormalizeName(name), nil
}

func (Format) NormalizeVersion(v string) (string, error) {
	return NormalizeVersion(v) // its errors name the input
}

func (Format) CompareVersions(a, b string) int { return CompareVersionStrings(a, b) }
