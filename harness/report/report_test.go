package report

import (
	"encoding/json"
	"strings"
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

func TestWrap(t *testing.T) {
	var b strings.Builder
	Wrap(&b, "  kernel: ", strings.Repeat("word ", 40))
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "  kernel: word") || !strings.HasPrefix(lines[1], "        word") {
		t.Fatalf("wrapped:\n%s", b.String())
	}
	for _, l := range lines {
		if len(l) > Width {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
	b.Reset()
	Wrap(&b, "x: ", "")
	if b.Len() != 0 {
		t.Fatal("an empty text wrote a line")
	}
}
