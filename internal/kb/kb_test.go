package kb_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb"
)

func load(t *testing.T) *kb.KB {
	t.Helper()
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatalf("the shipped knowledge base is invalid: %v", err)
	}
	return k
}

func TestLoad_Shipped(t *testing.T) {
	k := load(t)
	wantCauses := []string{"cross-border-restricted", "bank-verification", "platform-unsupported", "account-settings"}
	wantSolutions := []string{"international-card", "paypal", "enable-cross-border", "billing-settings", "virtual-card", "contact-support", "choose-plan", "payment-timing"}
	if !slices.Equal(k.Causes, wantCauses) {
		t.Errorf("causes = %v, want the stable IDs %v", k.Causes, wantCauses)
	}
	if !slices.Equal(k.Solutions, wantSolutions) {
		t.Errorf("solutions = %v, want the stable IDs %v", k.Solutions, wantSolutions)
	}
	if got := k.Languages(); !slices.Equal(got, []string{"zh-Hans", "en"}) {
		t.Errorf("languages = %v, want [zh-Hans en] with the default first", got)
	}
	if len(k.Version) != 8 {
		t.Errorf("flow version %q, want 8 hex digits", k.Version)
	}
}

// TestLoad_Broken loads each fixture under testdata/kb as an operator overlay: each breaks the
// shipped knowledge base in one way, and Load must name what is wrong.
func TestLoad_Broken(t *testing.T) {
	tests := []struct{ fixture, want string }{
		{"unreachable-question", `question "orphan" is not reachable`},
		{"dead-end-cycle", `question "loop_a" never leads to an outcome`},
		{"unknown-next", `next question "nowhere" does not exist`},
		{"rules-out-unknown", `option "virtual": rules out "crypto-card", which is no solution but the last resort`},
		{"cause-without-solutions", `cause "mystery" is named by no reachable outcome`},
		{"solution-unreachable", `solution "pray" is offered by no reachable outcome`},
		{"missing-translation", `locale zh-Hans: message "question.card_type.crypto" is missing`},
		{"bad-template", `locale en: message "bot.diagnosis"`},
		{"field-not-given", `locale en: message "bot.diagnosis" uses a field it is not given (it is given: Cause)`},
		{"field-misspelt", `locale en: message "bot.image_seen" uses a field it is not given (it is given: Quote)`},
		{"phrase-unknown-outcome", `outcome "moon-phase" does not exist`},
		{"incomplete-language", `locale de: message "command.start" is missing`},
		{"lang-name-clash", `locale en: message "lang.names": "中文" is a name of zh-Hans too`},
		{"lang-name-is-a-tag", `locale en: message "lang.names": "zh" is the tag of zh-Hans`},
		{"command-description-too-long", `locale en: the description of /help must be one line of at most 256 characters`},
		{"answer-unknown-solution", `answer "which-coin": unknown solution "crypto"`},
		{"answer-in-no-locale", `message "solution.payment-timing.answer.how-lnog", which a phrase file asks, is in no locale`},
		{"answer-takes-a-field", `locale en: message "solution.paypal.answer.who": an answer takes no fields`},
		{"answer-about-both", `answer "both": it answers a question about a solution or about a question of the flow, one of them`},
		{"typed-unknown-option", `typed answer: question "card_type" has no option "amex"`},
		{"verdict-unknown-action", `verdict "maybe": a verdict is one of [worked failed not_tried skipped]`},
		{"verdict-unknown-solution", `verdict failed: unknown solution "visa-card"`},
		{"failure-not-negation", `failure "bounced" is none of the negations`},
		{"phrase-list-after-table", `unknown key command.courtesy`},
		{"command-unknown", `command "stop": a phrase file words one of [start help solutions lang back repeat]`},
		{"command-lang-unknown", `command lang: "klingon" is no language of the knowledge base`},
		{"answer-asks-and-tells", `answer "fee": "commission" is in asks and tells; tells is enough`},
		{"answer-phrase-twice", `answer "fee": "charges" asks solution.paypal.answer.link-card already`},
		{"answer-tells-at-question", `answer "how-to-tell": what is told at a question of the flow is a typed answer, not tells`},
		{"typed-over-unknown-option", `typed answer card_type/foreign: it wins over "amex", no other option of the question`},
		{"amount-help-no-answer", `amount amount/small: help "guess" is no answer of the phrase files`},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			_, err := kb.Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "testdata", "kb", tc.fixture)))
			if !errors.Is(err, kb.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant it to say %s", err, tc.want)
			}
		})
	}
}

func TestLoad_OverlayCorrectsText(t *testing.T) {
	k, err := kb.Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "testdata", "kb", "override-text")))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Text("en", kb.SolutionTitle("paypal"), nil); got != "Pay with PayPal (edited by the operator)" {
		t.Errorf("overlay text not used: %q", got)
	}
	if got := k.Text("zh-Hans", kb.SolutionTitle("paypal"), nil); got != "通过 PayPal 支付" {
		t.Errorf("other languages must keep the shipped text: %q", got)
	}
	if k.Version != load(t).Version {
		t.Error("an overlay without a flow file changed the flow version")
	}
}

// TestLoad_ThirdLanguage: a language the shipped knowledge base does not speak is added by an
// overlay holding only its locale file, and is then spoken like the shipped ones.
func TestLoad_ThirdLanguage(t *testing.T) {
	k, err := kb.Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "testdata", "kb", "third-language")))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Languages(); !slices.Equal(got, []string{"zh-Hans", "en", "fr"}) {
		t.Errorf("languages = %v, want [zh-Hans en fr]", got)
	}
	if got := k.Text("fr", kb.SolutionTitle("paypal"), nil); got != "Payer avec PayPal" {
		t.Errorf("French text = %q", got)
	}
	if got := k.LanguageName("fr"); got != "Français" {
		t.Errorf("LanguageName(fr) = %q", got)
	}
	for _, hint := range []string{"fr", "fr-CA"} {
		if got, ok := k.MatchLanguage(hint); got != "fr" || !ok {
			t.Errorf("MatchLanguage(%q) = %q, %v; want fr", hint, got, ok)
		}
	}
	menu := k.CommandMenu("fr")
	want := []kb.Command{
		{Name: "start", Description: "Recommencer : qu'est-ce qui a échoué lors du paiement ?"},
		{Name: "solutions", Description: "Lister toutes les solutions"},
		{Name: "lang", Description: "Changer de langue : /lang fr, /lang en ou /lang 中文"},
		{Name: "human", Description: "Parler à une personne"},
		{Name: "help", Description: "Ce que fait ce bot"},
	}
	if !slices.Equal(menu, want) {
		t.Errorf("CommandMenu(fr) = %v\nwant %v", menu, want)
	}
}

func TestCommandMenu(t *testing.T) {
	k := load(t)
	for _, lang := range k.Languages() {
		menu := k.CommandMenu(lang)
		var names []string
		for _, c := range menu {
			names = append(names, c.Name)
			if c.Description == "" || c.Description == kb.MsgCommandStart {
				t.Errorf("%s: /%s has no description: %q", lang, c.Name, c.Description)
			}
		}
		if !slices.Equal(names, []string{"start", "solutions", "lang", "human", "help"}) {
			t.Errorf("%s: commands %v", lang, names)
		}
	}
	if got := k.CommandMenu("en")[0].Description; got != "Start over: what went wrong with the payment?" {
		t.Errorf("CommandMenu(en) starts with %q", got)
	}
	if got, want := k.CommandMenu("ru"), k.CommandMenu("zh-Hans"); !slices.Equal(got, want) {
		t.Errorf("a language the kb does not speak: %v, want the default language's %v", got, want)
	}
}

func TestLanguageByName(t *testing.T) {
	k, err := kb.Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "testdata", "kb", "third-language")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"中文", "zh-Hans", true},
		{"简体中文", "zh-Hans", true},
		{"Chinese", "zh-Hans", true},
		{"cn", "zh-Hans", true},
		{"zh", "zh-Hans", true},
		{"zh-CN", "zh-Hans", true},
		{"english", "en", true},
		{"ＥＮＧＬＩＳＨ", "en", true},
		{"英文", "en", true},
		{"en", "en", true},
		{"français", "fr", true},
		{"Français", "fr", true},
		{"francais", "fr", true},
		{"法语", "fr", true},
		{"fr", "fr", true},
		{"klingon", "", false},
		{"xx", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := k.LanguageByName(tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("LanguageByName(%q) = %q, %v; want %q, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMatchLanguage(t *testing.T) {
	k := load(t)
	tests := []struct {
		hint, want string
		ok         bool
	}{
		{"zh-hans", "zh-Hans", true}, // Telegram's language_code
		{"zh", "zh-Hans", true},
		{"zh-CN", "zh-Hans", true},
		{"en", "en", true},
		{"en-US", "en", true}, // Slack's locale
		{"en_GB", "en", true},
		{"ru", "", false},
		{"", "", false},
		{"not a tag!", "", false},
	}
	for _, tc := range tests {
		got, ok := k.MatchLanguage(tc.hint)
		if got != tc.want || ok != tc.ok {
			t.Errorf("MatchLanguage(%q) = %q, %v; want %q, %v", tc.hint, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRecognize(t *testing.T) {
	k := load(t)
	tests := []struct {
		text string
		want kb.Target
	}{
		{"Your card was declined.", kb.Target{Outcome: "cross-border"}},
		{"ＹＯＵＲ　ＣＡＲＤ　ＷＡＳ　ＤＥＣＬＩＮＥＤ！", kb.Target{Outcome: "cross-border"}},
		{"“交易被拒绝”", kb.Target{Outcome: "cross-border"}},
		{"error: authentication_required", kb.Target{Outcome: "verification"}},
		{"没 收到 验证码", kb.Target{Outcome: "verification"}},
		{"incorrect_zip", kb.Target{Outcome: "account"}},
		{"我只有支付宝", kb.Target{Outcome: "wallet-only"}},
		{"can I use paypal?", kb.Target{Solution: "paypal"}},
		{"怎么联系openai客服", kb.Target{Solution: "contact-support"}},
		// Beside the checkout's generic message, what the person says leads when it leads
		// surely to an outcome: the model, which met the message in every kind of decline,
		// let it outweigh "but I was charged". Words that lead nowhere surely leave it to speak.
		{"Your card was declined. but I was charged", kb.Target{Outcome: "not-credited"}},
		{"Your card was declined. 但是钱扣了", kb.Target{Outcome: "not-credited"}},
		// The words that frame a quoted message are no case of the person's against it.
		{"付款时提示：您的银行卡被拒绝了。", kb.Target{Outcome: "cross-border"}},
		{"Your card was declined at checkout", kb.Target{Outcome: "cross-border"}},
		{"Your card was declined on the checkout page", kb.Target{Outcome: "cross-border"}},
		{"付plus的时候提示您的银行卡被拒绝了", kb.Target{Outcome: "cross-border"}},
		// What the person says of their case, beside the message, outweighs it.
		{"Your card was declined. no SMS code arrived", kb.Target{Outcome: "verification"}},
		{"您的银行卡被拒绝了。没收到验证码", kb.Target{Outcome: "verification"}},
		{"Your card was declined. the zip code was wrong", kb.Target{Outcome: "account"}},
		{"您的银行卡被拒绝了。付款页面超时了", kb.Target{Outcome: "peak-timeout"}},
		{"Your card was declined. The bank says it's because 3DS was not completed", kb.Target{Outcome: "verification"}},
		{"Your card was declined. 我用的是支付宝", kb.Target{Outcome: "wallet-only"}},
		{"Your card was declined. Any idea?", kb.Target{Outcome: "cross-border"}},
	}
	for _, tc := range tests {
		m := k.Recognize(tc.text)
		if len(m) == 0 || m[0].Target != tc.want {
			t.Errorf("Recognize(%q) = %v, want first %+v", tc.text, m, tc.want)
		}
	}
	for _, text := range []string{"", "zzkqx", "qwfp zxcv"} {
		if m := k.Recognize(text); len(m) != 0 {
			t.Errorf("Recognize(%q) = %v, want nothing", text, m)
		}
	}
	for _, text := range []string{"hello there", "How do I stream responses from the chat completions API?"} {
		if m := k.Recognize(text); len(m) == 0 || m[0].Action != kb.ActionOffTopic {
			t.Errorf("Recognize(%q) = %v, want off-topic first", text, m)
		}
	}
}

// TestRecognize_Hedged: a hedge ("好像", "i think") softens what is told without changing it,
// and the model reads the text as it would without: trained on chatter, it doubted
// "好像被扣钱了", and the bot left the person on a solution that meant paying again.
func TestRecognize_Hedged(t *testing.T) {
	k := load(t)
	for hedged, plain := range map[string]string{
		"好像被扣钱了":                      "被扣钱了",
		"看了下账单 好像扣了钱":                 "看了下账单 扣了钱",
		"i think i was charged twice": "i was charged twice",
	} {
		got, want := k.Recognize(hedged), k.Recognize(plain)
		if len(got) == 0 || len(want) == 0 || got[0] != want[0] {
			t.Errorf("%q read as %v, %q as %v", hedged, head(got), plain, head(want))
		}
	}
}

func head(m []kb.Match) []kb.Match { return m[:min(len(m), 2)] }

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"  Your   card\twas DECLINED!! ": "your card was declined",
		"ＣＡＲＤ＿ＤＥＣＬＩＮＥＤ":                  "card_declined",
		"openai客服":       "openai 客服",
		"银行卡 不支持":        "银行卡不支持",
		"“do_not_honor”": "do_not_honor",
	}
	for in, want := range tests {
		if got := kb.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every message with fields renders the same through Text's split form as through go-i18n,
// for the shipped texts and for an operator's text with a condition in it.
func TestText_FieldsFilledLikeTheTemplate(t *testing.T) {
	conditional, err := kb.Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "testdata", "kb", "conditional-template")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		k        *kb.KB
		lang, id string
		data     map[string]any
		want     string
	}{
		{load(t), "en", kb.MsgPlan, map[string]any{"Count": 3}, "I'll go through 3 things to try, most likely first."},
		{load(t), "zh-Hans", kb.MsgSolutionHeading, map[string]any{"N": 2, "Total": 4, "Title": "PayPal"}, "办法 2/4：PayPal"},
		{load(t), "en", kb.MsgDiagnosis, map[string]any{"Cause": "<b>&"}, "Likely cause: <b>&"},
		{conditional, "en", kb.MsgPlan, map[string]any{"Count": 0}, "Nothing left to try."},
		{conditional, "en", kb.MsgPlan, map[string]any{"Count": 2}, "I'll go through 2 things to try."},
		{conditional, "en", kb.MsgDiagnosis, map[string]any{"Cause": "bank"}, "Your bank blocks it."},
		{conditional, "en", kb.MsgDiagnosis, map[string]any{"Cause": "card"}, "Likely cause: card (card)"},
		{conditional, "en", kb.MsgSolutionHeading, map[string]any{"N": 1, "Total": 3, "Title": "PayPal"}, "#1/3:PayPal"},
	}
	for _, tc := range tests {
		if got := tc.k.Text(tc.lang, tc.id, tc.data); got != tc.want {
			t.Errorf("Text(%s, %s, %v) = %q, want %q", tc.lang, tc.id, tc.data, got, tc.want)
		}
	}
}

// An operator's corpus lines (BOT_KB_DIR) teach the recognizer beside the shipped ones; a bad
// line stops the load, naming the file and the line.
func TestCorpusOverlay(t *testing.T) {
	var lines strings.Builder
	lines.WriteString("lang\twant\tsource\ttext\n")
	for _, text := range []string{"my card got zorbled", "zorbled again", "the bank zorbled it", "zorbled when paying", "why zorbled"} {
		lines.WriteString("en\toutcome:amount-limit\twritten\t" + text + "\n")
	}
	k, err := kb.Load(bot.Data(), fstest.MapFS{"testdata/recognize/train.tsv": {Data: []byte(lines.String())}})
	if err != nil {
		t.Fatal(err)
	}
	if m := k.Recognize("it got zorbled"); len(m) == 0 || m[0].Outcome != "amount-limit" {
		t.Errorf("an overlay's lines were not learnt: %v", m)
	}
	for _, bad := range []string{"en\toutcome:nowhere\twritten\tsome text\n", "en\tsolution:paypal\ttext without a source\n"} {
		_, err := kb.Load(bot.Data(), fstest.MapFS{"testdata/recognize/train.tsv": {Data: []byte("lang\twant\tsource\ttext\n" + bad)}})
		if !errors.Is(err, kb.ErrInvalid) || !strings.Contains(err.Error(), "overlay testdata/recognize/train.tsv") || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: err = %v, want ErrInvalid naming the overlay's file and line 2", bad, err)
		}
	}
	// Saved by a spreadsheet, with a byte-order mark before the header, it reads.
	if _, err := kb.Load(bot.Data(), fstest.MapFS{"testdata/recognize/train.tsv": {Data: []byte("\ufeff" + lines.String())}}); err != nil {
		t.Errorf("a file with a byte-order mark: %v", err)
	}
	// Without its header, the first example would be lost without a word.
	_, err = kb.Load(bot.Data(), fstest.MapFS{"testdata/recognize/train.tsv": {Data: []byte("en\toutcome:amount-limit\twritten\tzorbled\n")}})
	if !errors.Is(err, kb.ErrInvalid) || !strings.Contains(err.Error(), "line 1: want the header") {
		t.Errorf("a file without its header: err = %v, want ErrInvalid asking for the header", err)
	}
}

// The answers before a question rule out the outcomes only the questions before it lead to;
// the start menu rules out none.
func TestAnsweredAway(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		question string
		want     []string
	}{
		{"what_happened", nil},
		{"card_type", nil},
		{"overseas_enabled", nil},
		{"verify_prompt", []string{"cross-border"}},
		{"amount", []string{"cross-border", "verification"}},
		{"address_match", []string{"amount-limit", "cross-border", "verification"}},
	} {
		var got []string
		for _, target := range k.AnsweredAway(tc.question) {
			got = append(got, target.Outcome)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("AnsweredAway(%s) = %v, want %v", tc.question, got, tc.want)
		}
	}
}
