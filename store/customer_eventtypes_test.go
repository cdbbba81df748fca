package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"onedesk/store"
)

// Customer events as the map-based code wrote them read as their types,
// the types write the same bytes, and both engines store and read them.
func TestCustomerEventTypesOnBothEngines(t *testing.T) {
	ana := store.Identity{Kind: "email", Value: "ana@example.com"}
	old := []struct {
		data string
		want store.CustomerEventData
	}{
		{`{"customer_id":1,"identities":[{"kind":"email","value":"ana@example.com"}],"merged_id":2,"tickets":[5,6]}`,
			store.CustomerMergedData{CustomerID: 1, Identities: []store.Identity{ana}, MergedID: 2, Tickets: []int64{5, 6}}},
		{`{"customer_id":1,"identities":null,"merged_id":2,"tickets":null}`,
			store.CustomerUnmergedData{CustomerID: 1, MergedID: 2}},
		{`{"identity":{"kind":"email","value":"ana@example.com"}}`, store.IdentityAddedData{Identity: ana}},
		{`{"customer_id":3,"identity":{"kind":"email","value":"ana@example.com"}}`,
			store.SuggestionDismissedData{CustomerID: 3, Identity: ana}},
	}
	store.ForEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := store.OpenTest(t)
		c := &store.Customer{Name: "Ana", CreatedAt: store.Now()}
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			for _, o := range old {
				e := &store.CustomerEvent{CustomerID: c.ID, Type: o.want.CustomerEventType(), Actor: "1", Data: json.RawMessage(o.data), CreatedAt: store.Now()}
				if err := tx.InsertCustomerEvent(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		events, err := db.CustomerEvents(ctx, c.ID)
		if err != nil || len(events) != len(old) {
			t.Fatalf("events %+v, %v", events, err)
		}
		for i, o := range old {
			got, err := events[i].Payload()
			if err != nil {
				t.Errorf("%s: %v", o.data, err)
				continue
			}
			// Payload gives a pointer to the type's struct.
			if reflect.TypeOf(got).Elem() != reflect.TypeOf(o.want) || !reflect.DeepEqual(reflect.ValueOf(got).Elem().Interface(), o.want) {
				t.Errorf("%s read as %#v", o.data, got)
			}
			if raw, _ := json.Marshal(o.want); string(raw) != o.data {
				t.Errorf("the type writes %s, the maps wrote %s", raw, o.data)
			}
		}
	})
	for _, typ := range store.CustomerEventTypes {
		if data, err := store.DecodeCustomerEventData(typ, []byte("{}")); err != nil || data.CustomerEventType() != typ {
			t.Errorf("%s: %v %v", typ, data, err)
		}
	}
	if _, err := store.DecodeCustomerEventData("no_such_type", []byte("{}")); err == nil {
		t.Error("an unknown customer event type decoded")
	}
}
