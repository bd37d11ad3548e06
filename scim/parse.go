package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// parser is a recursive-descent parser for SCIM filters (RFC 7644
// §3.4.2.2, Figure 1), producing the AST of github.com/scim2/filter-parser
// (the parser elimity uses), which translate maps to the SDK's. It replaces
// that parser for filters because the latter costs hundreds of
// microseconds per filter — most of a GET by userName — and grows steeply
// with nesting; PATCH paths are still parsed by elimity.
//
// Beyond the RFC grammar it accepts what Entra ID sends when matching on a
// work email, attr[filter].sub op value, as attr[filter and sub op value];
// operators, literals and logical words in any case; and runs of spaces.
// Precedence is not > and > or (RFC 7644 §3.4.2.2).
type parser struct {
	s     string
	i     int
	depth int
}

func parseFilterExpr(s string) (filter.Expression, error) {
	p := &parser{s: s}
	p.space()
	e, err := p.or(false)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.fail("unexpected %q", p.rest())
	}
	return e, nil
}

func (p *parser) fail(format string, args ...any) error {
	return fmt.Errorf("at offset %d: "+format, append([]any{p.i}, args...)...)
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// word reports whether the next token is the keyword w (case-insensitive)
// followed by a space, "(" or the end, and consumes it.
func (p *parser) word(w string) bool {
	j := p.i + len(w)
	if j > len(p.s) || !strings.EqualFold(p.s[p.i:j], w) {
		return false
	}
	if j < len(p.s) && p.s[j] != ' ' && p.s[j] != '\t' && p.s[j] != '(' {
		return false
	}
	p.i = j
	return true
}

func (p *parser) enter() error {
	if p.depth++; p.depth > maxFilterDepth {
		return p.fail("the filter is nested more than %d levels deep", maxFilterDepth)
	}
	return nil
}

// or parses FILTER *(SP "or" SP FILTER); inside tells whether the parse is
// within brackets (a value filter).
func (p *parser) or(inside bool) (filter.Expression, error) {
	left, err := p.and(inside)
	if err != nil {
		return nil, err
	}
	for {
		save := p.i
		p.space()
		if !p.word("or") {
			p.i = save
			return left, nil
		}
		p.space()
		right, err := p.and(inside)
		if err != nil {
			return nil, err
		}
		left = &filter.LogicalExpression{Left: left, Right: right, Operator: filter.OR}
	}
}

func (p *parser) and(inside bool) (filter.Expression, error) {
	left, err := p.unary(inside)
	if err != nil {
		return nil, err
	}
	for {
		save := p.i
		p.space()
		if !p.word("and") {
			p.i = save
			return left, nil
		}
		p.space()
		right, err := p.unary(inside)
		if err != nil {
			return nil, err
		}
		left = &filter.LogicalExpression{Left: left, Right: right, Operator: filter.AND}
	}
}

// unary parses "not" "(" FILTER ")", "(" FILTER ")", or an attribute
// expression or value path.
func (p *parser) unary(inside bool) (filter.Expression, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	save := p.i
	if p.word("not") {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '(' {
			e, err := p.group(inside)
			if err != nil {
				return nil, err
			}
			return &filter.NotExpression{Expression: e}, nil
		}
		p.i = save // an attribute named "not"
	}
	if p.i < len(p.s) && p.s[p.i] == '(' {
		return p.group(inside)
	}
	return p.attrExpr(inside)
}

func (p *parser) group(inside bool) (filter.Expression, error) {
	p.i++ // (
	p.space()
	e, err := p.or(inside)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, p.fail("missing )")
	}
	p.i++
	return e, nil
}

// attrExpr parses attrPath SP "pr", attrPath SP compareOp SP compValue, or
// (outside brackets) attrPath "[" valFilter "]" with Entra's optional
// "." subAttr SP compareOp SP compValue.
func (p *parser) attrExpr(inside bool) (filter.Expression, error) {
	path, err := p.attrPath()
	if err != nil {
		return nil, err
	}
	if !inside && p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		p.space()
		vf, err := p.or(true)
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return nil, p.fail("missing ]")
		}
		p.i++
		vp := &filter.ValuePath{AttributePath: path, ValueFilter: vf}
		if p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			sub, err := p.name()
			if err != nil {
				return nil, err
			}
			cmp, err := p.comparison(filter.AttributePath{AttributeName: sub})
			if err != nil {
				return nil, err
			}
			vp.ValueFilter = &filter.LogicalExpression{Left: vf, Right: cmp, Operator: filter.AND}
		}
		return vp, nil
	}
	return p.comparison(path)
}

// comparison parses SP "pr" or SP compareOp SP compValue after path.
func (p *parser) comparison(path filter.AttributePath) (filter.Expression, error) {
	if p.i >= len(p.s) || (p.s[p.i] != ' ' && p.s[p.i] != '\t') {
		return nil, p.fail("expected an operator after %q", path.String())
	}
	p.space()
	j := p.i
	for j < len(p.s) && isLetter(p.s[j]) {
		j++
	}
	op := filter.CompareOperator(strings.ToLower(p.s[p.i:j]))
	switch op {
	case filter.PR:
		p.i = j
		return &filter.AttributeExpression{AttributePath: path, Operator: op}, nil
	case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
	default:
		return nil, p.fail("%q is not an operator", p.s[p.i:j])
	}
	p.i = j
	if p.i >= len(p.s) || (p.s[p.i] != ' ' && p.s[p.i] != '\t') {
		return nil, p.fail("expected a value after %q", op)
	}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	return &filter.AttributeExpression{AttributePath: path, Operator: op, CompareValue: v}, nil
}

// value parses compValue: a JSON string, true, false, null or a number.
func (p *parser) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.fail("missing value")
	}
	if p.s[p.i] == '"' {
		j := skipString(p.s, p.i)
		if j > len(p.s) || p.s[j-1] != '"' || j-p.i < 2 {
			return nil, p.fail("unterminated string")
		}
		raw := p.s[p.i:j]
		p.i = j
		if !strings.ContainsRune(raw, '\\') {
			return raw[1 : len(raw)-1], nil
		}
		var s string
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return nil, p.fail("invalid string %s", shorten(raw, 40))
		}
		return s, nil
	}
	j := p.i
	for j < len(p.s) && p.s[j] != ' ' && p.s[j] != '\t' && p.s[j] != ')' && p.s[j] != ']' {
		j++
	}
	tok := p.s[p.i:j]
	p.i = j
	switch strings.ToLower(tok) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n, err := strconv.Atoi(tok); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil && tok != "" && (tok[0] == '-' || tok[0] >= '0' && tok[0] <= '9') {
		return f, nil
	}
	return nil, p.fail("%q is not a value (a string in double quotes, a number, true, false or null)", shorten(tok, 40))
}

// attrPath parses [URI ":"] ATTRNAME *1subAttr.
func (p *parser) attrPath() (filter.AttributePath, error) {
	j := p.i
	for j < len(p.s) && (isNameChar(p.s[j]) || p.s[j] == ':' || p.s[j] == '.') {
		j++
	}
	tok := p.s[p.i:j]
	if tok == "" {
		return filter.AttributePath{}, p.fail("expected an attribute, found %q", p.rest())
	}
	p.i = j
	var path filter.AttributePath
	if k := strings.LastIndexByte(tok, ':'); k >= 0 {
		uri := tok[:k]
		if !strings.HasPrefix(strings.ToLower(uri), "urn:") {
			return path, fmt.Errorf("%q is not a schema URI", uri)
		}
		path.URIPrefix = &uri
		tok = tok[k+1:]
	}
	name, sub, hasSub := strings.Cut(tok, ".")
	if !validName(name) || (hasSub && !validName(sub)) {
		return path, fmt.Errorf("%q is not an attribute name", tok)
	}
	path.AttributeName = name
	if hasSub {
		path.SubAttribute = &sub
	}
	return path, nil
}

func (p *parser) name() (string, error) {
	j := p.i
	for j < len(p.s) && isNameChar(p.s[j]) {
		j++
	}
	n := p.s[p.i:j]
	if !validName(n) {
		return "", p.fail("expected a sub-attribute name")
	}
	p.i = j
	return n, nil
}

// validName is ATTRNAME of RFC 7643 §2.1 (and "$ref").
func validName(n string) bool {
	if n == "$ref" {
		return true
	}
	if n == "" || !isLetter(n[0]) {
		return false
	}
	for i := 1; i < len(n); i++ {
		if !isNameChar(n[i]) || n[i] == '$' {
			return false
		}
	}
	return true
}

// parsePath parses a PATCH path (RFC 7644 §3.5.2, Figure 1):
// attrPath, or attrPath "[" valFilter "]" optionally followed by
// "." subAttr.
func parsePath(s string) (filter.Path, error) {
	p := &parser{s: s}
	ap, err := p.attrPath()
	if err != nil {
		return filter.Path{}, err
	}
	path := filter.Path{AttributePath: ap}
	if p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		p.space()
		vf, err := p.or(true)
		if err != nil {
			return filter.Path{}, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ']' {
			return filter.Path{}, p.fail("missing ]")
		}
		p.i++
		path.ValueExpression = vf
		if p.i < len(p.s) && p.s[p.i] == '.' {
			p.i++
			sub, err := p.name()
			if err != nil {
				return filter.Path{}, err
			}
			path.SubAttribute = &sub
		}
	}
	if p.i < len(p.s) {
		return filter.Path{}, p.fail("unexpected %q", p.rest())
	}
	return path, nil
}
