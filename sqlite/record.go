package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// A record codec: the member documents' encoding. Members are read far
// more than anything else (every page of a list decodes a hundred of
// them), and encoding/json spends most of a read matching field names and
// scanning text. This codec writes what JSON would (the same fields, named
// by their JSON names, zero values left out) as length-prefixed binary:
//
//	record = { field }
//	field  = uvarint(len(name)) name uvarint(len(value)) value
//
// where a value is a string's bytes, nothing for true, a varint for an
// integer, time.Time's MarshalBinary, a sequence of uvarint-prefixed
// records (or strings) for a slice of structs (or strings), and
// uvarint-prefixed keys and values for a map of strings. Embedded structs' fields are inlined, as JSON does.
// Decoding skips the fields it does not know, so a record written by a
// later build with more fields still reads. A document starts with the
// byte recordMark; one that starts with '{' is JSON.

// recordPlan is how the codec walks one struct type.
type recordPlan struct {
	fields []fieldPlan
	byName map[string]int
}

type fieldPlan struct {
	name  string
	index []int
	kind  fieldKind
	elem  *recordPlan // kindStructs
}

type fieldKind int

const (
	kindString fieldKind = iota + 1
	kindBool
	kindInt
	kindTime
	kindStructs
	kindStrings
	kindStringMap
)

var timeType = reflect.TypeFor[time.Time]()

// planOf builds the plan of struct type t; it fails for a field type the
// codec does not know, which the tests catch as soon as one appears.
func planOf(t reflect.Type) (*recordPlan, error) {
	p := &recordPlan{byName: map[string]int{}}
	var walk func(t reflect.Type, prefix []int) error
	walk = func(t reflect.Type, prefix []int) error {
		for i := range t.NumField() {
			f := t.Field(i)
			index := append(append([]int(nil), prefix...), i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				if err := walk(f.Type, index); err != nil {
					return err
				}
				continue
			}
			if name == "" {
				name = f.Name
			}
			fp := fieldPlan{name: name, index: index}
			switch {
			case f.Type == timeType:
				fp.kind = kindTime
			case f.Type.Kind() == reflect.String:
				fp.kind = kindString
			case f.Type.Kind() == reflect.Bool:
				fp.kind = kindBool
			case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64 || f.Type.Kind() == reflect.Int32:
				fp.kind = kindInt
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				elem, err := planOf(f.Type.Elem())
				if err != nil {
					return err
				}
				fp.kind, fp.elem = kindStructs, elem
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
				fp.kind = kindStrings
			case f.Type.Kind() == reflect.Map && f.Type.Key().Kind() == reflect.String && f.Type.Elem().Kind() == reflect.String:
				fp.kind = kindStringMap
			default:
				return fmt.Errorf("record codec: field %s of %s has type %s, which it cannot encode", f.Name, t, f.Type)
			}
			p.byName[name] = len(p.fields)
			p.fields = append(p.fields, fp)
		}
		return nil
	}
	return p, walk(t, nil)
}

// mustPlan is planOf for the types the store encodes, at start-up.
func mustPlan(t reflect.Type) *recordPlan {
	p, err := planOf(t)
	if err != nil {
		panic(err)
	}
	return p
}

// encode appends the record of v, a struct of p's type, to b.
func (p *recordPlan) encode(b []byte, v reflect.Value) []byte {
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.FieldByIndex(f.index)
		if fv.IsZero() || (f.kind >= kindStructs && fv.Len() == 0) {
			continue // as JSON's omitempty: empty lists and maps read back nil
		}
		b = appendString(b, f.name)
		switch f.kind {
		case kindString:
			b = appendString(b, fv.String())
		case kindBool:
			b = binary.AppendUvarint(b, 0)
		case kindInt:
			var n [binary.MaxVarintLen64]byte
			b = appendBytes(b, binary.AppendVarint(n[:0], fv.Int()))
		case kindTime:
			tb, _ := fv.Interface().(time.Time).MarshalBinary()
			b = appendBytes(b, tb)
		case kindStructs:
			// The length of the list's encoding is not known ahead:
			// encode it after the field, then move it into place.
			start := len(b)
			for j := range fv.Len() {
				at := len(b)
				b = f.elem.encode(b, fv.Index(j))
				b = prefixLen(b, at)
			}
			b = prefixLen(b, start)
		case kindStrings:
			start := len(b)
			for j := range fv.Len() {
				b = appendString(b, fv.Index(j).String())
			}
			b = prefixLen(b, start)
		case kindStringMap:
			start := len(b)
			it := fv.MapRange()
			for it.Next() {
				b = appendString(b, it.Key().String())
				b = appendString(b, it.Value().String())
			}
			b = prefixLen(b, start)
		}
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// prefixLen inserts before b[start:] the uvarint of its length.
func prefixLen(b []byte, start int) []byte {
	var n [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(n[:], uint64(len(b)-start))
	b = append(b, n[:l]...)
	copy(b[start+l:], b[start:len(b)-l])
	copy(b[start:], n[:l])
	return b
}

var errRecord = errors.New("record codec: malformed record")

// next splits a uvarint-prefixed chunk off b. Decoding works on one string
// holding the whole document, so that the strings it sets are slices of
// it rather than one allocation each.
func next(b string) (chunk, rest string, err error) {
	var n uint64
	for i, shift := 0, uint(0); i < len(b) && i < binary.MaxVarintLen64; i, shift = i+1, shift+7 {
		c := b[i]
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if uint64(len(b)-i-1) < n {
				return "", "", errRecord
			}
			return b[i+1 : i+1+int(n)], b[i+1+int(n):], nil
		}
	}
	return "", "", errRecord
}

// decode sets the fields of v, a struct of p's type, from the record b.
func (p *recordPlan) decode(b string, v reflect.Value) error {
	for len(b) > 0 {
		name, rest, err := next(b)
		if err != nil {
			return err
		}
		val, rest, err := next(rest)
		if err != nil {
			return err
		}
		b = rest
		i, ok := p.byName[name]
		if !ok {
			continue // written by a later build
		}
		f := &p.fields[i]
		fv := v.FieldByIndex(f.index)
		switch f.kind {
		case kindString:
			fv.SetString(val)
		case kindBool:
			fv.SetBool(true)
		case kindInt:
			n, k := binary.Varint([]byte(val))
			if k <= 0 {
				return errRecord
			}
			fv.SetInt(n)
		case kindTime:
			var t time.Time
			if err := t.UnmarshalBinary([]byte(val)); err != nil {
				return err
			}
			fv.Set(reflect.ValueOf(t))
		case kindStructs:
			n := 0
			for c := val; len(c) > 0; n++ {
				if _, c, err = next(c); err != nil {
					return err
				}
			}
			list := reflect.MakeSlice(fv.Type(), n, n)
			for j := 0; len(val) > 0; j++ {
				var elem string
				elem, val, _ = next(val)
				if err := f.elem.decode(elem, list.Index(j)); err != nil {
					return err
				}
			}
			fv.Set(list)
		case kindStrings:
			var list []string
			for len(val) > 0 {
				var x string
				if x, val, err = next(val); err != nil {
					return err
				}
				list = append(list, x)
			}
			fv.Set(reflect.ValueOf(list).Convert(fv.Type()))
		case kindStringMap:
			m := reflect.MakeMap(fv.Type())
			for len(val) > 0 {
				var k, x string
				if k, val, err = next(val); err != nil {
					return err
				}
				if x, val, err = next(val); err != nil {
					return err
				}
				m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(x))
			}
			fv.Set(m)
		}
	}
	return nil
}

// recordMark is the first byte of a record document (JSON's is '{').
const recordMark = 1

var memberPlan = mustPlan(reflect.TypeFor[sdk.Member]())

// encodeMember returns the document of m (whose Groups the caller has
// cleared).
func encodeMember(m *sdk.Member) []byte {
	return memberPlan.encode(append(make([]byte, 0, 512), recordMark), reflect.ValueOf(m).Elem())
}

// decodeMember reads a member document.
func decodeMember(doc []byte) (*sdk.Member, error) {
	m := new(sdk.Member)
	switch {
	case len(doc) > 0 && doc[0] == recordMark:
		if err := memberPlan.decode(string(doc[1:]), reflect.ValueOf(m).Elem()); err != nil {
			return nil, fmt.Errorf("decoding a stored member: %w", err)
		}
		return m, nil
	case len(doc) > 0 && doc[0] == '{':
		return m, decode(doc, m)
	}
	return nil, errRecord
}
