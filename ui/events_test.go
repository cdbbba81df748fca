package ui_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"onedesk/store"
	"onedesk/ui"
)

// The app names event types through the served lists only: every EV.Name
// (ticket events) and CEV.Name (customer events) in its code is one the
// server sends, and the lists are store's.
func TestAppNamesEventTypesFromServedList(t *testing.T) {
	e := newEnv(t, ui.Options{})
	var got struct {
		EventTypes         map[string]store.EventType         `json:"event_types"`
		CustomerEventTypes map[string]store.CustomerEventType `json:"customer_event_types"`
	}
	e.admin().must(200, "GET", "/api/event-types", nil).json(t, &got)
	for _, typ := range unserved(got.EventTypes, store.EventTypes) {
		t.Errorf("%s is not served", typ)
	}
	for _, typ := range unserved(got.CustomerEventTypes, store.CustomerEventTypes) {
		t.Errorf("customer event %s is not served", typ)
	}
	if got.CustomerEventTypes["IdentityAdded"] != store.CustomerIdentityAdded {
		t.Errorf("served customer keys: %v", got.CustomerEventTypes)
	}
	if got.EventTypes["StatusChanged"] != store.EventStatusChanged || got.EventTypes["SlaBreached"] != store.EventSLABreached {
		t.Errorf("served keys: %v", got.EventTypes)
	}
	files, err := filepath.Glob("../assets/app/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("app code: %v %v", files, err)
	}
	uses, customerUses := 0, 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\bEV\.([A-Za-z]+)`).FindAllStringSubmatch(string(src), -1) {
			uses++
			if _, ok := got.EventTypes[m[1]]; !ok {
				t.Errorf("%s names EV.%s, which the server does not send", filepath.Base(f), m[1])
			}
		}
		for _, m := range regexp.MustCompile(`\bCEV\.([A-Za-z]+)`).FindAllStringSubmatch(string(src), -1) {
			customerUses++
			if _, ok := got.CustomerEventTypes[m[1]]; !ok {
				t.Errorf("%s names CEV.%s, which the server does not send", filepath.Base(f), m[1])
			}
		}
	}
	if uses == 0 {
		t.Error("the app names no event type through EV")
	}
	if customerUses == 0 {
		t.Error("the app names no customer event type through CEV")
	}
}

// unserved are the types of all that the served list lacks.
func unserved[T comparable](served map[string]T, all []T) []T {
	var missing []T
	for _, typ := range all {
		if !slices.Contains(slices.Collect(maps.Values(served)), typ) {
			missing = append(missing, typ)
		}
	}
	return missing
}
