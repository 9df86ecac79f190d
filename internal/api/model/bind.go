package model

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Input is a bound, validated request: member name -> value, where values
// are string, int64, bool, []any or map[string]any, as the model types them.
type Input map[string]any

func (in Input) String(name string) string {
	s, _ := in[name].(string)
	return s
}

// OptString returns nil when the member was absent.
func (in Input) OptString(name string) *string {
	if s, ok := in[name].(string); ok {
		return &s
	}
	return nil
}

func (in Input) Int(name string, def int64) int64 {
	if v, ok := in[name].(int64); ok {
		return v
	}
	return def
}

func (in Input) Has(name string) bool { _, ok := in[name]; return ok }

// List returns a list member's elements (nil when absent).
func (in Input) List(name string) []any {
	l, _ := in[name].([]any)
	return l
}

// ValidationError is a request that does not satisfy the model; Message is
// in the style AWS uses ("1 validation error detected: Value ...").
type ValidationError struct {
	Problems []string
	Parse    bool  // the body could not be parsed at all
	Err      error // why the body could not be read, if that is the problem
}

func (e *ValidationError) Unwrap() error { return e.Err }

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "1 validation error detected: " + e.Problems[0]
	}
	return fmt.Sprintf("%d validation errors detected: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// MaxJSONBody bounds control-plane request bodies (policy documents, the
// largest members in the model, are 7 KiB).
const MaxJSONBody = 1 << 20

// Bind reads op's input members from r (query string, headers, JSON body)
// and validates them. Streaming payload members are left in r.Body.
func (op *Operation) Bind(r *http.Request) (Input, error) {
	in := Input{}
	if op.Input == nil {
		return in, nil
	}
	verr := &ValidationError{}
	var body map[string]json.RawMessage
	hasBodyMembers := false
	for _, m := range op.Input.Members {
		if m.Location == "" && m.Name != op.Input.Payload {
			hasBodyMembers = true
		}
	}
	if hasBodyMembers && op.Input.Payload == "" && r.Body != nil {
		data, err := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
		if err != nil {
			return nil, &ValidationError{Parse: true, Err: err, Problems: []string{"could not read the request body: " + err.Error()}}
		}
		if len(data) > MaxJSONBody {
			return nil, &ValidationError{Parse: true, Problems: []string{fmt.Sprintf("the request body is larger than %d bytes", MaxJSONBody)}}
		}
		if len(strings.TrimSpace(string(data))) > 0 {
			if err := json.Unmarshal(data, &body); err != nil {
				return nil, &ValidationError{Parse: true, Problems: []string{"the request body is not a JSON object: " + err.Error()}}
			}
		}
	}
	q := r.URL.Query()
	for _, m := range op.Input.Members {
		var (
			v       any
			present bool
		)
		switch m.Location {
		case "querystring":
			if vals, ok := q[m.LocationName]; ok {
				present = true
				v = verr.fromStrings(m, vals)
			}
		case "header":
			if h := r.Header.Get(m.LocationName); h != "" {
				present = true
				v = verr.fromStrings(m, []string{h})
			}
		case "uri":
			if s := r.PathValue(m.LocationName); s != "" {
				present = true
				v = verr.fromStrings(m, []string{s})
			}
		default:
			if m.Name == op.Input.Payload {
				continue
			}
			if raw, ok := body[m.Name]; ok && string(raw) != "null" {
				present = true
				v = verr.fromJSON(m.Name, m.Shape, raw)
			}
		}
		if !present {
			if m.Required {
				verr.add("Value null at '%s' failed to satisfy constraint: Member must not be null", m.Name)
			}
			continue
		}
		if v != nil {
			verr.check(m.Name, m.Shape, v)
			in[m.Name] = v
		}
	}
	if len(verr.Problems) > 0 {
		return nil, verr
	}
	return in, nil
}

func (e *ValidationError) add(format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

// fromStrings converts query-string or header text to the member's type.
func (e *ValidationError) fromStrings(m *Member, vals []string) any {
	s := m.Shape
	if s.Type == "list" {
		out := make([]any, 0, len(vals))
		for _, v := range vals {
			if x := e.scalar(m.Name, s.Member, v); x != nil {
				e.check(m.Name, s.Member, x)
				out = append(out, x)
			}
		}
		return out
	}
	return e.scalar(m.Name, s, vals[len(vals)-1])
}

func (e *ValidationError) scalar(name string, s *Shape, v string) any {
	switch s.Type {
	case "integer", "long":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			e.add("Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", clip(v), name)
			return nil
		}
		return n
	case "boolean":
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.add("Value '%s' at '%s' failed to satisfy constraint: Member must be true or false", clip(v), name)
			return nil
		}
		return b
	}
	return v
}

// fromJSON decodes a body member into the generic value types.
func (e *ValidationError) fromJSON(name string, s *Shape, raw json.RawMessage) any {
	switch s.Type {
	case "structure":
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be an object", name)
			return nil
		}
		out := map[string]any{}
		for _, m := range s.Members {
			path := name + "." + m.Name
			r, ok := obj[m.Name]
			if !ok || string(r) == "null" {
				if m.Required {
					e.add("Value null at '%s' failed to satisfy constraint: Member must not be null", path)
				}
				continue
			}
			if v := e.fromJSON(path, m.Shape, r); v != nil {
				e.check(path, m.Shape, v)
				out[m.Name] = v
			}
		}
		return out
	case "list":
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be a list", name)
			return nil
		}
		out := make([]any, 0, len(arr))
		for i, r := range arr {
			path := fmt.Sprintf("%s.%d", name, i+1)
			if v := e.fromJSON(path, s.Member, r); v != nil {
				e.check(path, s.Member, v)
				out = append(out, v)
			}
		}
		return out
	case "map":
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be a map", name)
			return nil
		}
		out := map[string]any{}
		for k, r := range obj {
			if v := e.fromJSON(name+"."+k, s.Value, r); v != nil {
				out[k] = v
			}
		}
		return out
	case "integer", "long":
		var n int64
		if json.Unmarshal(raw, &n) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be an integer", name)
			return nil
		}
		return n
	case "boolean":
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be a boolean", name)
			return nil
		}
		return b
	case "timestamp":
		var f float64
		if json.Unmarshal(raw, &f) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be a timestamp", name)
			return nil
		}
		return f
	default:
		var str string
		if json.Unmarshal(raw, &str) != nil {
			e.add("Value at '%s' failed to satisfy constraint: Member must be a string", name)
			return nil
		}
		return str
	}
}

// check applies the model's constraints to one value.
func (e *ValidationError) check(name string, s *Shape, v any) {
	switch x := v.(type) {
	case string:
		n := int64(utf8.RuneCountInString(x))
		if s.Min != nil && n < *s.Min {
			e.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", clip(x), name, *s.Min)
		}
		if s.Max != nil && n > *s.Max {
			e.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", clip(x), name, *s.Max)
		}
		if s.Pattern != nil && !s.Pattern.MatchString(x) {
			e.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", clip(x), name, s.RawPat)
		}
		if len(s.Enum) > 0 && !contains(s.Enum, x) {
			e.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", clip(x), name, strings.Join(s.Enum, ", "))
		}
	case int64:
		if s.Min != nil && x < *s.Min {
			e.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", x, name, *s.Min)
		}
		if s.Max != nil && x > *s.Max {
			e.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", x, name, *s.Max)
		}
	case []any:
		n := int64(len(x))
		if s.Min != nil && n < *s.Min {
			e.add("Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", name, *s.Min)
		}
		if s.Max != nil && n > *s.Max {
			e.add("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", name, *s.Max)
		}
	}
}

// clip keeps echoed values short; they are user input, never secrets
// (control-plane members hold no credentials).
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
