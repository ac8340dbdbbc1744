package kb

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb/kbtest"
)

func loadShipped(t *testing.T) *KB {
	t.Helper()
	k, err := Load(bot.Data(), nil)
	if err != nil {
		t.Fatalf("the shipped knowledge base is invalid: %v", err)
	}
	return k
}

func TestStripeCodes_CoverTheDocs(t *testing.T) {
	k := loadShipped(t)
	documented := kbtest.DeclineCodes(t)
	if len(documented) != 50 {
		t.Fatalf("the evidence list has %d codes, the docs 50", len(documented))
	}
	have := map[string]bool{}
	for _, c := range k.codes {
		have[c.Code] = true
	}
	for _, code := range documented {
		if !have[code] {
			t.Errorf("decline code %s is documented but not in phrases/stripe.toml", code)
		}
	}
}

func TestStripeCodes_Recognised(t *testing.T) {
	k := loadShipped(t)
	if len(k.codes) == 0 {
		t.Fatal("no Stripe codes loaded")
	}
	best := func(text string) Target {
		m := k.Recognize(text)
		if len(m) == 0 {
			return Target{}
		}
		return m[0].Target
	}
	for _, c := range k.codes {
		texts := []string{
			c.Code,
			"Stripe says: " + c.Code,
			"支付失败，提示 " + c.Code + "，怎么办",
			// The code wins over the generic message it usually comes with.
			"Your card was declined. decline_code: " + c.Code,
			// Stripe's error object: the generic code, then the one that says why.
			`{"error": {"code": "card_declined", "decline_code": "` + c.Code + `"}}`,
			strings.ReplaceAll(c.Code, "_", " "),
		}
		// Not only first: sure, so that the bot acts on it rather than asking.
		for _, text := range texts[:5] {
			if m := k.Recognize(text); len(m) == 0 || m[0].Probability < 0.5 {
				t.Errorf("%s: %q is not a sure thing: %v", c.Code, text, m)
			}
		}
		codeForms := len(texts)
		for _, m := range slices.Concat(c.En, c.Zh, c.Said) {
			// A message is as exact as its code, pasted alone or amid words of the person's.
			texts = append(texts, m, "支付时提示："+m+" 怎么回事", "Checkout says: "+m+" Any idea?")
		}
		for i, text := range texts {
			amidWords := i >= codeForms && (i-codeForms)%3 != 0
			switch {
			case c.Generic && amidWords:
				// A generic message decides nothing: amid the person's words the model reads
				// it, and the code's target must at least be among the likely few the bot
				// asks about.
				if !offered(k.Recognize(text), c.Target) {
					t.Errorf("%s: %q: %v, want %s among the targets of at least 0.1", c.Code, text, k.Recognize(text), c.Target)
				}
			case best(text) != c.Target:
				t.Errorf("%s: %q -> %s, want %s (matches %v)", c.Code, text, best(text), c.Target, k.Recognize(text))
			}
			// A generic code's messages decide nothing, and tell no code either.
			if got := k.Meaning(text); got != c.Means && (i < codeForms || !c.Generic) {
				t.Errorf("%s: Meaning(%q) = %q, want %q", c.Code, text, got, c.Means)
			}
		}
		if c.Generic {
			continue
		}
		// A precise code is enough for the engine to go by (0.6, 0.25 ahead of the next) in a
		// pasted error object, however many of its keys surround it.
		object := `{"error":{"code":"card_declined","decline_code":"` + c.Code + `","message":"Your card was declined.","type":"card_error","doc_url":"https://stripe.com/docs/error-codes/card-declined"}}`
		if m := k.Recognize(object); len(m) == 0 || m[0].Target != c.Target || m[0].Probability < 0.6 || len(m) > 1 && m[0].Probability-m[1].Probability < 0.25 {
			t.Errorf("%s: %q: %v, want %s first with at least 0.6, 0.25 ahead", c.Code, object, m, c.Target)
		}
		// A checkout page's own words (add payment details, card information) lean to the
		// payment settings: the code still comes first.
		page := "Add payment details\nCard information\nError: " + c.Code + "\nCancel   Add payment method"
		if m := k.Recognize(page); len(m) == 0 || m[0].Target != c.Target || m[0].Probability < 0.6 {
			t.Errorf("%s: %q: %v, want %s first with at least 0.6", c.Code, page, m, c.Target)
		}
	}
}

func TestMeaning(t *testing.T) {
	k := loadShipped(t)
	// They tell where a code leads, not that a payment failed: a step done names them.
	if k.HoldsCode("ok I corrected the wrong zip code in settings") {
		t.Error("a said phrase holds a code: a step done would read as a failure")
	}
	if !k.HoldsCode("incorrect_zip") {
		t.Error("incorrect_zip holds no code")
	}
	for _, tc := range []struct{ text, want string }{
		{"expired_card", "expired"},
		{"Your card has expired.", "expired"},
		{"您的银行卡已过期", "expired"},
		{"card_declined", "no_reason"},
		{"Your card was declined. decline_code: insufficient_funds", "funds"},
		{`{"error":{"code":"card_declined","decline_code":"incorrect_cvc"}}`, "cvc"},
		{"incorrect_cvc and incorrect_number", ""}, // two meanings: neither said
		{"incorrect_cvc, invalid_cvc", "cvc"},
		{"卡过期了", "expired"},
		{"邮编验证失败", "address"}, // 验证 is no bank's SMS check here
		{"提示稍后再试", "try_later"},
		{"好的我稍后再试", ""}, // a plan, not the checkout's words
		// OpenAI's billing errors share a type and a message; the code says which one.
		{`{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"credit_balance_exhausted"}}`, "no_credit"},
		{`{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"project_spend_limit_exceeded"}}`, "spend_limit"},
		{"Error code: 429 - You exceeded your current quota, please check your plan and billing details.", "quota"},
		{"调接口一直报 insufficient_quota 怎么办", "quota"},
		{"403 Country, region, or territory not supported", "api_region"},
		{"my free credits expired", ""}, // what the person says is no code
		{"【中国银行】您尾号5678的借记卡在境外网站OPENAI的交易被拒绝,原因:CVV2错误。", "cvc"},
		{"my card expired last month", "expired"},
		{"my free credits expired", ""},
		// The words people give a reason in count only anchored to the card.
		{"登录密码错误次数过多", ""},
		{"支付宝支付密码错误次数过多", ""},
		{"微信不支持美元吗", ""},
		{"我挂失了旧卡，新卡还没到", ""},
		{"银行说被拒次数太多了", ""},
		{"【广发银行】您尾号1234的卡片已挂失,交易被拒绝。", "lost_or_stolen"},
		{"Your card was declined.", ""}, // a generic message decides nothing, and tells no code
		{"my card got declined", ""},
	} {
		if got := k.Meaning(tc.text); got != tc.want {
			t.Errorf("Meaning(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// offered reports whether t is among matches with the probability of an option of a
// clarifying question.
func offered(matches []Match, t Target) bool {
	return slices.ContainsFunc(matches, func(m Match) bool { return m.Target == t && m.Probability >= 0.1 })
}

// TestCodes_SourcesAreDocumented: every code of the tables comes from Stripe's or OpenAI's
// documentation, or from an error object quoted verbatim in a public issue.
func TestCodes_SourcesAreDocumented(t *testing.T) {
	k := loadShipped(t)
	issue := regexp.MustCompile(`^https://github\.com/[\w.-]+/[\w.-]+/issues/\d+$`)
	for _, c := range k.codes {
		documented := strings.HasPrefix(c.Source, "https://docs.stripe.com/") ||
			strings.HasPrefix(c.Source, "https://developers.openai.com/") || strings.HasPrefix(c.Source, "https://help.openai.com/")
		if !documented && !issue.MatchString(c.Source) {
			t.Errorf("%s: source %q is neither Stripe's nor OpenAI's documentation, nor a public issue", c.Code, c.Source)
		}
	}
}

func TestStripeCodes_Invalid(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"unknown target", `
[[code]]
code = "do_not_honor_x"
outcome = "moon-phase"
source = "https://docs.stripe.com/declines/codes"`, `code "do_not_honor_x": outcome "moon-phase" does not exist`},
		{"no target", `
[[code]]
code = "x_code"
source = "https://docs.stripe.com/declines/codes"`, `code "x_code": needs exactly one of outcome, solution or action`},
		{"twice", `
[[code]]
code = "x_code"
outcome = "peak-timeout"
source = "https://docs.stripe.com/declines/codes"
[[code]]
code = "x_code"
outcome = "peak-timeout"
source = "https://docs.stripe.com/declines/codes"`, `code "x_code": listed twice`},
		{"not a code", `
[[code]]
code = "Do Not Honor"
outcome = "cross-border"
source = "https://docs.stripe.com/declines/codes"`, `code "Do Not Honor": want lower-case letters`},
		{"exact messages of a precise code", `
[[code]]
code = "x_code"
outcome = "cross-border"
exact_messages = true
source = "https://docs.stripe.com/declines/codes"`, `code "x_code": exact_messages is for a generic code`},
		{"no source", `
[[code]]
code = "x_code"
outcome = "cross-border"`, `code "x_code": source "" is not a https:// address`},
		{"code of another target", `
[[code]]
code = "insufficient_funds_2"
outcome = "cross-border"
en = ["Your card has insufficient funds."]
source = "https://docs.stripe.com/declines/codes"`, `code "insufficient_funds_2": "your card has insufficient funds" leads to outcome:cross-border, but phrases/stripe.toml: code "insufficient_funds" leads it to outcome:amount-limit`},
		{"message of two targets", `
[[code]]
code = "x_one"
outcome = "cross-border"
zh = ["某条消息"]
source = "https://docs.stripe.com/declines/codes"
[[code]]
code = "x_two"
outcome = "peak-timeout"
zh = ["某条消息"]
source = "https://docs.stripe.com/declines/codes"`, `"某条消息" leads to`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			overlay := fstest.MapFS{"phrases/extra.toml": {Data: []byte(tc.file)}}
			_, err := Load(bot.Data(), overlay)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "phrases/extra.toml") {
				t.Errorf("err = %v\nwant it to name the file and say %s", err, tc.want)
			}
		})
	}
}

// An overlay can add a code, and the code then outweighs a message of another target.
func TestStripeCodes_OverlayAddsCode(t *testing.T) {
	overlay := fstest.MapFS{"phrases/extra.toml": {Data: []byte(`
[[code]]
code = "brand_new_code"
outcome = "amount-limit"
source = "https://docs.stripe.com/declines/codes"`)}}
	k, err := Load(bot.Data(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	m := k.Recognize("Your card was declined: brand_new_code")
	if len(m) == 0 || m[0].Outcome != "amount-limit" {
		t.Errorf("got %v, want amount-limit first", m)
	}
}

func TestContainsPhrase(t *testing.T) {
	tests := []struct {
		text, phrase string
		want         bool
	}{
		{"your card has expired", "your card has expired", true},
		{"stripe said your card has expired what now", "your card has expired", true},
		{"card declined", "card declined", true},
		{"discard declined", "card declined", false},
		{"card declined twice", "card declined", true},
		{"card declinedx card declined", "card declined", true}, // the second is whole
		{"card declinedx", "card declined", false},
		{"付款时提示 您的卡已被拒绝 怎么办", "您的卡已被拒绝", true},
		{"提示您的卡已被拒绝了", "您的卡已被拒绝", true}, // Chinese has no spaces between words
		{"your card", "your card has expired", false},
	}
	for _, tt := range tests {
		if got := containsPhrase(tt.text, tt.phrase); got != tt.want {
			t.Errorf("containsPhrase(%q, %q) = %v, want %v", tt.text, tt.phrase, got, tt.want)
		}
	}
}
