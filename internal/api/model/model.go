// Package model loads the CodeArtifact service model that botocore ships
// (service-2.json, Apache-2.0, embedded here unchanged) and uses it to route,
// bind and validate control-plane requests. Shapes, locations, patterns,
// enums and ranges therefore come from the model itself, never from guesses,
// and cannot drift from what the aws CLI and SDKs send.
package model

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

//go:embed codeartifact-2018-09-22.json.gz
var modelGz []byte

// Service is the parsed model.
type Service struct {
	Operations map[string]*Operation
	Shapes     map[string]*Shape
}

// Operation is one API operation.
type Operation struct {
	Name   string
	Method string
	Path   string // request URI without the query part
	Input  *Shape
	Output *Shape
}

// Member is a structure member and where it travels on the wire.
type Member struct {
	Name         string
	Shape        *Shape
	Location     string // "", "querystring", "header", "uri"
	LocationName string
	Required     bool
}

// Shape is a model shape with its constraints.
type Shape struct {
	Name     string
	Type     string // structure, list, map, string, integer, long, boolean, timestamp, blob
	Members  []*Member
	Member   *Shape // list element
	Key      *Shape // map key
	Value    *Shape // map value
	Enum     []string
	Pattern  *regexp.Regexp
	RawPat   string
	Min, Max *int64
	Payload  string // member sent as the raw body (streaming blobs)
}

type rawShape struct {
	Type     string   `json:"type"`
	Required []string `json:"required"`
	Members  map[string]struct {
		Shape        string `json:"shape"`
		Location     string `json:"location"`
		LocationName string `json:"locationName"`
	} `json:"members"`
	Member  *struct{ Shape string } `json:"member"`
	Key     *struct{ Shape string } `json:"key"`
	Value   *struct{ Shape string } `json:"value"`
	Enum    []string                `json:"enum"`
	Pattern string                  `json:"pattern"`
	Min     *float64                `json:"min"`
	Max     *float64                `json:"max"`
	Payload string                  `json:"payload"`
}

type rawModel struct {
	Operations map[string]struct {
		HTTP struct {
			Method     string `json:"method"`
			RequestURI string `json:"requestUri"`
		} `json:"http"`
		Input  *struct{ Shape string } `json:"input"`
		Output *struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]rawShape `json:"shapes"`
}

// Load parses the embedded model.
func Load() (*Service, error) {
	zr, err := gzip.NewReader(bytes.NewReader(modelGz))
	if err != nil {
		return nil, err
	}
	var raw rawModel
	if err := json.NewDecoder(zr).Decode(&raw); err != nil {
		return nil, fmt.Errorf("parse service model: %w", err)
	}
	svc := &Service{Operations: map[string]*Operation{}, Shapes: map[string]*Shape{}}
	for name := range raw.Shapes {
		svc.Shapes[name] = &Shape{Name: name}
	}
	for name, rs := range raw.Shapes {
		s := svc.Shapes[name]
		s.Type, s.Enum, s.Payload = rs.Type, rs.Enum, rs.Payload
		if rs.Pattern != "" {
			re, err := regexp.Compile("^(?:" + goPattern(rs.Pattern) + ")$")
			if err != nil {
				return nil, fmt.Errorf("shape %s: pattern %q: %w", name, rs.Pattern, err)
			}
			s.Pattern, s.RawPat = re, rs.Pattern
		}
		s.Min, s.Max = toInt(rs.Min), toInt(rs.Max)
		if rs.Member != nil {
			s.Member = svc.Shapes[rs.Member.Shape]
		}
		if rs.Key != nil {
			s.Key, s.Value = svc.Shapes[rs.Key.Shape], svc.Shapes[rs.Value.Shape]
		}
		names := make([]string, 0, len(rs.Members))
		for m := range rs.Members {
			names = append(names, m)
		}
		sort.Strings(names)
		for _, m := range names {
			rm := rs.Members[m]
			s.Members = append(s.Members, &Member{
				Name: m, Shape: svc.Shapes[rm.Shape], Location: rm.Location,
				LocationName: rm.LocationName, Required: contains(rs.Required, m),
			})
		}
	}
	for name, ro := range raw.Operations {
		op := &Operation{Name: name, Method: ro.HTTP.Method, Path: ro.HTTP.RequestURI}
		if i := strings.IndexByte(op.Path, '?'); i >= 0 {
			op.Path = op.Path[:i]
		}
		if ro.Input != nil {
			op.Input = svc.Shapes[ro.Input.Shape]
		}
		if ro.Output != nil {
			op.Output = svc.Shapes[ro.Output.Shape]
		}
		svc.Operations[name] = op
	}
	return svc, nil
}

// goPattern translates the model's Java-flavoured regex classes to RE2.
func goPattern(p string) string {
	return strings.ReplaceAll(p, `\p{IsWhitespace}`, `\s`)
}

func toInt(f *float64) *int64 {
	if f == nil {
		return nil
	}
	v := int64(*f)
	return &v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
