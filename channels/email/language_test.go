package email

import (
	"strings"
	"testing"
)

// TestMailLanguage: a mail's Content-Language wins; else its own lines
// (not the quoted ones) tell when they are clear; a language onedesk does
// not speak, or a line too short, tells nothing.
func TestMailLanguage(t *testing.T) {
	cases := []struct{ header, text, want string }{
		{"pt-BR", "Hello", "pt"},
		{"de-DE", "Dobrý den, moje objednávka ještě nedorazila.", ""},
		{"", "Dobrý den, moje objednávka číslo 1001 ještě nedorazila. Můžete mi prosím říct, kdy přijde?", "cs"},
		{"", "Olá, a minha encomenda ainda não chegou. Podem dizer-me quando vai ser entregue, por favor?", "pt"},
		{"", "Merhaba, siparişim hâlâ gelmedi. Ne zaman teslim edileceğini söyleyebilir misiniz lütfen?", "tr"},
		{"", "Здравствуйте, мой заказ до сих пор не пришёл. Подскажите, пожалуйста, когда его доставят?", "ru"},
		{"", "Hello, my order has still not arrived. Could you tell me when it will be delivered, please?", "en"},
		{"", "Guten Tag, meine Bestellung ist immer noch nicht angekommen. Wann wird sie geliefert?", ""},
		{"", "Thanks!", ""},
		{"", "Dobrý den, moje objednávka číslo 1001 ještě nedorazila. Můžete mi prosím říct, kdy přijde?\n> Hello, your order has shipped and will arrive soon, thank you for shopping with us.\n> Kind regards, the shop team and everyone who works with us here", "cs"},
	}
	for _, c := range cases {
		if got := mailLanguage(c.header, c.text); got != c.want {
			t.Errorf("mailLanguage(%q, %.40q) = %q, want %q", c.header, c.text, got, c.want)
		}
	}
}

// A mail of one enormous line (no line breaks: spam, a pasted log) is
// judged by its first few kilobytes, like any other mail: the Russian
// after them is never read.
func TestMailLanguageOfOneLongLine(t *testing.T) {
	cs := strings.Repeat("Dobrý den, moje objednávka číslo 1001 ještě nedorazila. Můžete mi prosím říct, kdy přijde? ", 60)
	ru := strings.Repeat("Здравствуйте, мой заказ до сих пор не пришёл. ", 100000)
	if got := mailLanguage("", cs+ru); got != "cs" {
		t.Fatalf("one long line: %q, want cs", got)
	}
}
