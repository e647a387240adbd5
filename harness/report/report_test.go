package report

import (
	"encoding/json"
	"testing"
)

func TestJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		Header
		T []Seconds `json:"t"`
	}{NewHeader("vm", "amd64", "6.12.107", "6.12.117", true), []Seconds{22.774873855, 0.064567, 3, 0.005}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"btfrecon-report/1","kind":"vm","arch":"amd64","build":"6.12.107","run":"6.12.117",` +
		`"module_allow_btf_mismatch":true,"t":[22.77,0.06,3,0.01]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
