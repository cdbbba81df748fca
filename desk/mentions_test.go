package desk_test

import (
	"slices"
	"testing"

	"onedesk/desk"
	"onedesk/store"
)

func TestMentions(t *testing.T) {
	agents := []*store.Agent{
		{ID: 1, Name: "Ana Silva", Email: "ana.silva@shop.test", Active: true},
		{ID: 2, Name: "Ana Costa", Email: "acosta@shop.test", Active: true},
		{ID: 3, Name: "Zoë Kovář", Email: "zoe@shop.test", Active: true},
		{ID: 4, Name: "Ирина Петрова", Email: "irina@shop.test", Active: true},
		{ID: 5, Name: "Bruno", Email: "b@shop.test", Active: true},
		{ID: 6, Name: "Old Timer", Email: "old@shop.test", Active: false},
		{ID: 7, Name: "Anabel Reis", Email: "anabel@other.test", Active: true},
	}
	for _, c := range []struct {
		body string
		want []int64
	}{
		{"no mention here", nil},
		{"@Ana Silva please look", []int64{1}},
		{"@ana silva, please look", []int64{1}},
		{"@Ana please look", nil}, // two Anas: a first name both have names neither
		{"@ana.silva and @acosta", []int64{1, 2}},
		{"@Anabel", []int64{7}}, // not Ana
		{"@Anabelle", nil},
		{"@zoë", []int64{3}},
		{"@ZOË KOVÁŘ", []int64{3}},
		{"@Zoe\u0308 typed apart", []int64{3}}, // "ë" as e + combining diaeresis
		{"@Zoe", []int64{3}},                   // the email's local part
		{"@Зоя", nil},
		{"спросить @ирина?", []int64{4}},
		{"спросить @Ирина Петрова.", []int64{4}},
		{"@Ирина\u00a0Петрова", []int64{4}},
		{"write to ana.silva@shop.test or zoe@shop.test", nil}, // addresses, not mentions
		{"(@Bruno)", []int64{5}},
		{"@bruno_x", nil},
		{"@Old Timer", nil}, // deactivated
		{"@Bruno @bruno @Zoë", []int64{3, 5}},
		{"@", nil},
		{"trailing @", nil},
	} {
		if got := desk.Mentions(c.body, agents); !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, want %v", c.body, got, c.want)
		}
	}
}
