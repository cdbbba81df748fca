package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// SeedOptions size the sample data Seed writes.
type SeedOptions struct {
	Tickets           int
	MessagesPerTicket int // on average
	Agents            int
	Teams             int
	Stores            int
	Customers         int
	PasswordHash      string // for every seeded agent
	Seed              uint64
}

// Seed fills the database with realistic sample data for trying onedesk
// and for benchmarks: tickets spread over two years in every status and
// channel, threads of customer messages, replies and notes, searchable text
// drawn from a skewed vocabulary (common and rare words). progress, when
// set, is called with the number of tickets written so far.
func (db *DB) Seed(ctx context.Context, o SeedOptions, progress func(done int)) error {
	if o.Tickets <= 0 {
		return fmt.Errorf("seed: tickets must be above 0")
	}
	if o.MessagesPerTicket <= 0 {
		o.MessagesPerTicket = 3
	}
	o.Agents, o.Teams, o.Stores = max(o.Agents, 1), max(o.Teams, 1), max(o.Stores, 1)
	if o.Customers <= 0 {
		o.Customers = max(o.Tickets/3, 1)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6f6e656465736b))
	words := vocabulary(rng)
	// Zipf-like: a few words are in most messages, most words are rare.
	word := func() string { return words[int(math.Pow(rng.Float64(), 3.2)*float64(len(words)))] }
	text := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(word())
		}
		return b.String()
	}

	now := time.Now().UTC()
	start := now.Add(-2 * 365 * 24 * time.Hour)
	span := now.Sub(start)

	// Reference rows first, in one transaction.
	err := db.Write(ctx, func(tx *Tx) error {
		at := ms(start)
		for i := 1; i <= o.Stores; i++ {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO stores (name, slug, created_at) VALUES (?, ?, ?)`,
				fmt.Sprintf("Shop %d", i), fmt.Sprintf("shop-%d", i), at); err != nil {
				return err
			}
		}
		for i := 1; i <= o.Teams; i++ {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO teams (name, created_at) VALUES (?, ?)`, fmt.Sprintf("Team %d", i), at); err != nil {
				return err
			}
		}
		for i := 1; i <= o.Agents; i++ {
			role := "agent"
			if i == 1 {
				role = "admin"
			}
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO agents (email, name, password_hash, role, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, fmt.Sprintf("agent%d@seed.test", i), fmt.Sprintf("Agent %d", i), o.PasswordHash, role, at, at); err != nil {
				return err
			}
		}
		return nil
	})
	if isUnique(err) {
		return errors.New("this database already holds seeded rows (stores shop-1...): seed a new file")
	}
	if err != nil {
		return fmt.Errorf("seed reference rows: %w", err)
	}
	var firstAgent, firstTeam, firstStore int64
	if err := db.w.QueryRowContext(ctx, `SELECT (SELECT max(id) FROM agents) - ?, (SELECT max(id) FROM teams) - ?, (SELECT max(id) FROM stores) - ?`,
		o.Agents, o.Teams, o.Stores).Scan(&firstAgent, &firstTeam, &firstStore); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	var firstCustomer int64
	if err := db.w.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM customers").Scan(&firstCustomer); err != nil {
		return err
	}

	const batch = 5000
	statusPick := []string{"new", "new", "new", "open", "open", "open", "open", "pending", "pending",
		"resolved", "resolved", "resolved", "resolved", "resolved", "resolved", "resolved", "closed", "closed", "closed", "closed"}
	seededCustomers := 0
	for done := 0; done < o.Tickets; {
		n := min(batch, o.Tickets-done)
		err := db.Write(ctx, func(tx *Tx) error {
			insCustomer, err := tx.tx.PrepareContext(ctx, "INSERT INTO customers (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id")
			if err != nil {
				return err
			}
			defer insCustomer.Close()
			insIdentity, err := tx.tx.PrepareContext(ctx, "INSERT INTO identities (customer_id, kind, value, created_at) VALUES (?, ?, ?, ?)")
			if err != nil {
				return err
			}
			defer insIdentity.Close()
			insTicket, err := tx.tx.PrepareContext(ctx, `INSERT INTO tickets (subject, status, priority, channel, store_id,
				customer_id, assignee_id, team_id, tags, snippet, created_at, updated_at, first_response_at, resolved_at,
				last_customer_at, last_agent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
			if err != nil {
				return err
			}
			defer insTicket.Close()
			insMessage, err := tx.tx.PrepareContext(ctx, `INSERT INTO messages (ticket_id, kind, channel, body, author_id,
				from_addr, delivery, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer insMessage.Close()
			insEvent, err := tx.tx.PrepareContext(ctx, `INSERT INTO ticket_events (ticket_id, type, actor, data, created_at)
				VALUES (?, ?, 'customer', '{}', ?)`)
			if err != nil {
				return err
			}
			defer insEvent.Close()
			insStatus, err := tx.tx.PrepareContext(ctx, `INSERT INTO ticket_events (ticket_id, type, actor, data, created_at)
				VALUES (?, ?, ?, ?, ?)`)
			if err != nil {
				return err
			}
			defer insStatus.Close()

			for i := done; i < done+n; i++ {
				created := start.Add(time.Duration(float64(span) * float64(i) / float64(o.Tickets)))
				// New customers at the rate that reaches o.Customers, else a returning one.
				var cid int64
				if seededCustomers == 0 || (seededCustomers < o.Customers && rng.IntN(o.Tickets) < o.Customers) {
					seededCustomers++
					err := insCustomer.QueryRowContext(ctx, fmt.Sprintf("%s %s", title(word()), title(word())), ms(created), ms(created)).Scan(&cid)
					if err != nil {
						return err
					}
					if _, err := insIdentity.ExecContext(ctx, cid, "email", fmt.Sprintf("customer%d@mail.test", cid), ms(created)); err != nil {
						return err
					}
					// And a mobile number: two identities per customer, as in a shop
					// whose customers write by email and WhatsApp.
					if _, err := insIdentity.ExecContext(ctx, cid, "phone", fmt.Sprintf("+3519%08d", cid), ms(created)); err != nil {
						return err
					}
				} else {
					cid = firstCustomer + 1 + rng.Int64N(int64(seededCustomers))
				}
				status := statusPick[rng.IntN(len(statusPick))]
				channel := seedChannels[rng.IntN(len(seedChannels))]
				var assignee, team any
				if status != "new" || rng.IntN(3) == 0 {
					assignee = firstAgent + 1 + rng.Int64N(int64(o.Agents))
				}
				if rng.IntN(2) == 0 {
					team = firstTeam + 1 + rng.Int64N(int64(o.Teams))
				}
				store := firstStore + 1 + rng.Int64N(int64(o.Stores))
				tags := "[]"
				if rng.IntN(4) == 0 {
					tags = fmt.Sprintf(`["%s"]`, word())
				}
				msgs := 1 + rng.IntN(2*o.MessagesPerTicket-1)
				t := created
				var lastCustomer, lastAgent, firstResponse any
				bodies := make([]string, msgs)
				kinds := make([]string, msgs)
				times := make([]time.Time, msgs)
				for m := range msgs {
					kind := "customer"
					switch {
					case m == 0:
					case rng.IntN(6) == 0:
						kind = "note"
					case m%2 == 1:
						kind = "agent"
					}
					if m > 0 {
						t = t.Add(time.Duration(rng.Int64N(int64(36 * time.Hour))))
						if t.After(now) {
							t = now
						}
					}
					kinds[m], times[m] = kind, t
					bodies[m] = text(8 + rng.IntN(30))
					if rng.IntN(50) == 0 {
						bodies[m] += fmt.Sprintf(" order #%d", 100000+rng.IntN(900000))
					}
					switch kind {
					case "customer":
						lastCustomer = ms(t)
					case "agent":
						lastAgent = ms(t)
						if firstResponse == nil {
							firstResponse = ms(t)
						}
					}
				}
				var resolved any
				if status == "resolved" || status == "closed" {
					resolved = ms(t)
				}
				snippet := bodies[msgs-1]
				if len(snippet) > 160 {
					snippet = snippet[:160]
				}
				var tid int64
				err := insTicket.QueryRowContext(ctx, title(text(3+rng.IntN(5))), status, Priorities[weighted(rng, 2, 10, 3, 1)],
					channel, store, cid, assignee, team, tags, snippet, ms(created), ms(t), firstResponse, resolved, lastCustomer, lastAgent).Scan(&tid)
				if err != nil {
					return err
				}
				if _, err := insEvent.ExecContext(ctx, tid, EventCreated, ms(created)); err != nil {
					return err
				}
				// Resolved and closed tickets got there by a status change
				// (the reports count those).
				if resolved != nil {
					actor := fmt.Sprint(assigneeOr(assignee, firstAgent+1))
					if _, err := insStatus.ExecContext(ctx, tid, EventStatusChanged, actor, `{"from":"open","to":"resolved"}`, resolved); err != nil {
						return err
					}
					if status == "closed" {
						if _, err := insStatus.ExecContext(ctx, tid, EventStatusChanged, "system", `{"from":"resolved","to":"closed"}`, resolved); err != nil {
							return err
						}
					}
				}
				for m := range msgs {
					var author any
					from := fmt.Sprintf("customer%d@mail.test", cid)
					delivery := ""
					if kinds[m] != "customer" {
						author, from = assigneeOr(assignee, firstAgent+1), ""
						if kinds[m] == "agent" {
							delivery = "sent"
						}
					}
					if _, err := insMessage.ExecContext(ctx, tid, kinds[m], channel, bodies[m], author, from, delivery, ms(times[m])); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed tickets %d-%d: %w", done, done+n, err)
		}
		done += n
		if progress != nil {
			progress(done)
		}
	}
	if _, err := db.w.ExecContext(ctx, db.optimizeSQL()); err != nil {
		return fmt.Errorf("seed: optimize: %w", err)
	}
	return nil
}

func assigneeOr(v any, fallback int64) any {
	if v == nil {
		return fallback
	}
	return v
}

func weighted(rng *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// vocabulary is a few thousand words: real ones a shop's mail is full of,
// then made-up ones that are rare.
func vocabulary(rng *rand.Rand) []string {
	common := strings.Fields(`the order my i you and to a is it of for not please where parcel delivery refund
		return size shipping package received thanks hello can when was have tracking number payment card
		address wrong item broken late still waiting week days store help email phone discount code invoice
		color shoes shirt dress exchange cancel account password login website checkout cart stock available
		price charged twice courier damaged missing label warehouse customs country europe express standard`)
	syll := []string{"ka", "lo", "mi", "ra", "zen", "tor", "vel", "qui", "bar", "nex", "po", "lu", "sa", "fen", "gri", "dov", "hal", "jun", "mek", "wys"}
	words := append([]string{}, common...)
	seen := map[string]bool{}
	for _, w := range words {
		seen[w] = true
	}
	for len(words) < 4000 {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// SampleIDs picks ids the benchmarks query with: an agent that has open
// tickets, a store, the newest ticket id and the number of tickets.
func (db *DB) SampleIDs(ctx context.Context) (agent, storeID, maxTicket int64, err error) {
	var a, s sql.NullInt64
	err = db.r.QueryRowContext(ctx, `SELECT (SELECT assignee_id FROM tickets WHERE status = 'open' AND assignee_id IS NOT NULL LIMIT 1),
		(SELECT store_id FROM tickets WHERE status = 'open' AND store_id IS NOT NULL LIMIT 1), (SELECT coalesce(max(id), 0) FROM tickets)`).
		Scan(&a, &s, &maxTicket)
	return a.Int64, s.Int64, maxTicket, err
}

// SampleSearchTerms picks what the search benchmarks look for in a seeded
// database: an order number written in a message, and the email, phone
// and name of a customer.
func (db *DB) SampleSearchTerms(ctx context.Context) (order, email, phone, name string, err error) {
	var body string
	err = db.r.QueryRowContext(ctx, `SELECT m.body, e.value, p.value, c.name FROM messages m
		JOIN tickets t ON t.id = m.ticket_id JOIN customers c ON c.id = t.customer_id
		JOIN identities e ON e.customer_id = c.id AND e.kind = 'email' JOIN identities p ON p.customer_id = c.id AND p.kind = 'phone'
		WHERE m.id > (SELECT max(id) / 2 FROM messages) AND m.body LIKE '%order #%' LIMIT 1`).Scan(&body, &email, &phone, &name)
	if err != nil {
		return "", "", "", "", fmt.Errorf("sample search terms: %w", err)
	}
	_, order, _ = strings.Cut(body, "order #")
	order, _, _ = strings.Cut(order, " ")
	return order, email, phone, name, nil
}

// seedChannels are the channels customers write through: phone tickets
// are calls agents log, so the seed makes none.
var seedChannels = slices.DeleteFunc(slices.Clone(Channels), func(c string) bool { return c == "phone" })
