package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster/sdk"
)

// fill sets every field of v, recursively, to a value that is not zero
// and differs from field to field.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + string(rune('A'+*n%26)) + "é")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n) * -1000003)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, *n*1000, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		m.SetMapIndex(reflect.ValueOf("k1"), reflect.ValueOf("x"))
		m.SetMapIndex(reflect.ValueOf("k2"), reflect.ValueOf(""))
		v.Set(m)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	var m sdk.Member
	n := 0
	fill(reflect.ValueOf(&m).Elem(), &n)
	doc := encodeMember(&m)
	got, err := decodeMember(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &m) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, &m)
	}
	// The zero member is an empty record and reads back zero.
	if got, err := decodeMember(encodeMember(&sdk.Member{})); err != nil || !reflect.DeepEqual(got, &sdk.Member{}) {
		t.Fatalf("zero member: %+v, %v", got, err)
	}
	// JSON documents still read.
	js, _ := json.Marshal(&m)
	if got, err := decodeMember(js); err != nil || !reflect.DeepEqual(got, &m) {
		t.Fatalf("JSON document: %+v, %v", got, err)
	}
	// A field this build does not know is skipped.
	later := appendString(appendString(append([]byte(nil), doc...), "addedLater"), "value")
	later = appendString(appendString(later, "addedList"), string(appendString(nil, "item")))
	if got, err := decodeMember(later); err != nil || !reflect.DeepEqual(got, &m) {
		t.Fatalf("record with an unknown field: %+v, %v", got, err)
	}
	// A truncated document is an error or, cut between two fields, a
	// member with fewer fields; never a panic.
	for i := 1; i < len(doc); i++ {
		if got, err := decodeMember(doc[:i]); err == nil && reflect.DeepEqual(got, &m) {
			t.Errorf("document cut at %d of %d reads back whole", i, len(doc))
		}
	}
	if _, err := decodeMember([]byte{7, 1, 2}); err == nil {
		t.Error("a document of no known format decoded")
	}
}

func TestRecordPlanRefusesUnknownTypes(t *testing.T) {
	type odd struct {
		Name  string
		Ratio float64
	}
	if _, err := planOf(reflect.TypeFor[odd]()); err == nil {
		t.Error("planOf accepted a float field")
	}
}

func BenchmarkMemberDocument(b *testing.B) {
	m := &sdk.Member{ID: sdk.NewID(), TenantID: sdk.NewID(), Email: "p0000001@corp.test", EmailKey: "p0000001@corp.test",
		UserNameKey: "p0000001@corp.test", Role: "member", Status: sdk.StatusActive, Version: 3, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	m.UserName = "p0000001@corp.test"
	m.GivenName, m.FamilyName, m.Department, m.Title, m.EmployeeNumber, m.ExternalID = "Given", "F1", "Eng", "Staff", "1", "E0000001"
	m.Emails = []sdk.Email{{Value: "p0000001@corp.test", Type: "work", Primary: true}}
	doc := encodeMember(m)
	js, _ := json.Marshal(m)
	b.Run("record/decode", func(b *testing.B) {
		for b.Loop() {
			decodeMember(doc)
		}
	})
	b.Run("json/decode", func(b *testing.B) {
		for b.Loop() {
			decodeMember(js)
		}
	})
	b.Run("record/encode", func(b *testing.B) {
		for b.Loop() {
			encodeMember(m)
		}
	})
}
