package orders

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	"onedesk/netguard"
)

// URL looks orders up at a shop's own address: GET the URL with
// email, phone and order parameters (each repeated as needed); it
// answers {"orders": [...]} in Order's JSON. A secret, when set, goes
// as "Authorization: Bearer <secret>".
type URL struct {
	URL    string
	Secret string
	Client *http.Client
}

// Lookup asks the URL once.
func (u *URL) Lookup(ctx context.Context, q Query) ([]Order, error) {
	target, err := url.Parse(u.URL)
	if err != nil {
		return nil, orderErr(err, "the order lookup URL is not valid")
	}
	params := target.Query()
	for _, e := range q.Emails {
		params.Add("email", e)
	}
	for _, p := range q.Phones {
		params.Add("phone", p)
	}
	for _, n := range q.Numbers {
		params.Add("order", n)
	}
	target.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return nil, orderErr(err, "the order lookup URL is not valid")
	}
	req.Header.Set("Accept", "application/json")
	if u.Secret != "" {
		req.Header.Set("Authorization", "Bearer "+u.Secret)
	}
	client := u.Client
	if client == nil {
		client = netguard.Default.Client(10 * time.Second) // no way into the desk's own network
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, httpFailure("The order lookup URL", nil, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, httpFailure("The order lookup URL", resp, nil)
	}
	var body struct {
		Orders []Order `json:"orders"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&body); err != nil {
		return nil, orderErr(err, "the order lookup URL answered something that is not order JSON ({\"orders\": [...]})")
	}
	return newest(body.Orders), nil
}
