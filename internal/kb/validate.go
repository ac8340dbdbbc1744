package kb

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Message IDs of the texts the conversation uses besides those derived from the flow; the
// fields of those with placeholders are in messageFields.
const (
	MsgGreeting         = "bot.greeting"
	MsgHelp             = "bot.help"
	MsgNotUnderstood    = "bot.not_understood"
	MsgOffTopic         = "bot.off_topic"
	MsgVague            = "bot.vague"
	MsgNoReadyAnswer    = "bot.no_ready_answer"
	MsgContradicts      = "bot.contradicts"
	MsgOtherFailed      = "bot.other_failed"
	MsgFindTheCause     = "bot.find_the_cause"
	MsgRefunded         = "bot.refunded"
	MsgArrived          = "bot.arrived"
	MsgSupportLater     = "bot.support_later"
	MsgPickAnAnswer     = "bot.pick_an_answer"
	MsgBack             = "bot.back"
	MsgAnswerChanged    = "bot.answer_changed"
	MsgNoWayBack        = "bot.no_way_back"
	MsgWelcome          = "bot.welcome"
	MsgNoHelper         = "bot.no_helper"
	MsgStaleMenu        = "bot.stale_menu"
	MsgUnsupportedMedia = "bot.unsupported_media"
	MsgUnknownCommand   = "bot.unknown_command"
	MsgLangUsage        = "bot.lang_usage"
	MsgLangSwitched     = "bot.lang_switched"
	MsgSolutionUsage    = "bot.solution_usage"
	MsgCardDataWarning  = "bot.card_data_warning"
	MsgAPIKeyWarning    = "bot.api_key_warning"
	MsgHumanUnavailable = "bot.human_unavailable"
	MsgHumanIsSupport   = "bot.human_is_support"
	MsgResume           = "bot.resume"
	MsgRecognized       = "bot.recognized"
	MsgImageSeen        = "bot.image_seen"
	MsgImageNoText      = "bot.image_no_text"
	MsgDiagnosis        = "bot.diagnosis"
	MsgPlan             = "bot.plan"
	MsgSolutionHeading  = "bot.solution_heading"
	MsgSolutionSingle   = "bot.solution_single"
	MsgAskWorked        = "bot.ask_worked"
	MsgNudge            = "bot.nudge"
	MsgWorked           = "bot.worked"
	MsgNextAfterFailure = "bot.next_after_failure"
	MsgExhausted        = "bot.exhausted"
	MsgAllSolutions     = "bot.all_solutions"
	MsgClarify          = "bot.clarify"
	MsgSlowDown         = "bot.slow_down"
	MsgHandoffSent      = "bot.handoff_sent"
	MsgNotYourMenu      = "bot.not_your_menu"    // a platform's note: a button of another person's menu, in a group
	MsgAnonymousAdmins  = "bot.anonymous_admins" // a platform's note: a group's anonymous admins share one dialog
	MsgSlackNotYourMenu = "slack.not_your_menu"  // Slack's note: a button of another person's menu
	MsgHomeStart        = "home.start"           // Slack's App Home: the button starting a diagnosis
	MsgHomeHint         = "home.hint"            // Slack's App Home: where the conversation goes on

	MsgHandoffSummary      = "handoff.summary"
	MsgHandoffNoCause      = "handoff.no_cause"
	MsgHandoffNothingTried = "handoff.nothing_tried"
	MsgHandoffWorked       = "handoff.worked"
	MsgHandoffFailed       = "handoff.failed"
	MsgHandoffUnanswered   = "handoff.unanswered"
	MsgHandoffNoMessage    = "handoff.no_message"
	// The two-way handoff: the summary's instructions, the relayed messages and the end.
	MsgHandoffHow            = "handoff.how"
	MsgHandoffFromHelper     = "handoff.from_helper"
	MsgHandoffFromPerson     = "handoff.from_person"
	MsgHandoffPicture        = "handoff.picture" // a picture, as OCR read it
	MsgHandoffPersonLeft     = "handoff.person_left"
	MsgHandoffClosed         = "handoff.closed"
	MsgHandoffExpired        = "handoff.expired"
	MsgHandoffExpiredHelpers = "handoff.expired_helpers"
	MsgHandoffNotOpen        = "handoff.not_open"
	MsgHandoffOpenNote       = "handoff.open_note"
	MsgHandoffSupportTeam    = "handoff.support_team"
	MsgHandoffThanks         = "handoff.thanks"
	MsgButtonBackToBot       = "button.back_to_bot"
	MsgButtonHelpedYes       = "button.helped_yes"
	MsgButtonHelpedNo        = "button.helped_no"
	MsgSorry                 = "bot.sorry"

	MsgButtonWorked  = "button.worked"
	MsgButtonFailed  = "button.failed"
	MsgButtonAll     = "button.all"
	MsgButtonRestart = "button.restart"
	MsgButtonHuman   = "button.human"

	// MsgLangName is the language's name in itself ("English", "简体中文"), as /lang lists it.
	MsgLangName = "lang.name"
	// MsgLangNames lists, comma-separated, the names /lang accepts for the language, in any
	// language ("English, english, 英文"); its tag and MsgLangName are accepted too.
	MsgLangNames = "lang.names"

	// The descriptions of the commands in a platform's command menu (see CommandMenu).
	MsgCommandStart     = "command.start"
	MsgCommandSolutions = "command.solutions"
	MsgCommandLang      = "command.lang"
	MsgCommandHuman     = "command.human"
	MsgCommandHelp      = "command.help"
)

// messageFields are the fields each message with placeholders is given; every other message
// is given none.
var messageFields = map[string][]string{
	MsgUnknownCommand: {"Command"}, MsgLangUsage: {"Languages"}, MsgSolutionUsage: {"IDs"},
	MsgImageSeen: {"Quote"}, MsgDiagnosis: {"Cause"}, MsgPlan: {"Count"},
	MsgSolutionHeading: {"N", "Total", "Title"}, MsgSolutionSingle: {"Title"}, MsgNudge: {"Title"}, MsgOtherFailed: {"Title"},
	MsgHandoffSummary:    {"Who", "Platform", "Lang", "Cause", "Tried", "Last"},
	MsgHandoffFromHelper: {"Who", "Text"}, MsgHandoffFromPerson: {"Who", "Text"}, MsgHandoffPicture: {"Who", "Text"},
	MsgHandoffPersonLeft: {"Who"}, MsgHandoffExpiredHelpers: {"Who"},
}

var fixedMessages = []string{
	MsgGreeting, MsgHelp, MsgNotUnderstood, MsgOffTopic, MsgVague, MsgNoReadyAnswer, MsgContradicts, MsgOtherFailed, MsgFindTheCause, MsgRefunded, MsgArrived, MsgSupportLater, MsgPickAnAnswer, MsgBack, MsgAnswerChanged, MsgNoWayBack, MsgWelcome, MsgNoHelper, MsgStaleMenu, MsgUnsupportedMedia,
	MsgUnknownCommand, MsgLangUsage, MsgLangSwitched, MsgSolutionUsage, MsgCardDataWarning, MsgAPIKeyWarning,
	MsgHumanUnavailable, MsgHumanIsSupport, MsgResume, MsgRecognized, MsgImageSeen, MsgImageNoText, MsgHandoffPicture, MsgDiagnosis, MsgPlan,
	MsgSolutionHeading, MsgSolutionSingle, MsgAskWorked, MsgNudge, MsgWorked, MsgNextAfterFailure,
	MsgExhausted, MsgAllSolutions, MsgClarify, MsgSlowDown, MsgSorry, MsgHandoffSent,
	MsgHandoffSummary, MsgHandoffNoCause, MsgHandoffNothingTried, MsgHandoffWorked, MsgHandoffFailed,
	MsgHandoffUnanswered, MsgHandoffNoMessage,
	MsgHandoffHow, MsgHandoffFromHelper, MsgHandoffFromPerson, MsgHandoffPersonLeft, MsgHandoffClosed,
	MsgHandoffExpired, MsgHandoffExpiredHelpers, MsgHandoffNotOpen, MsgHandoffOpenNote,
	MsgHandoffSupportTeam, MsgHandoffThanks, MsgButtonBackToBot, MsgButtonHelpedYes, MsgButtonHelpedNo,
	MsgButtonWorked, MsgButtonFailed, MsgButtonAll, MsgButtonRestart, MsgButtonHuman,
	MsgNotYourMenu, MsgAnonymousAdmins, MsgSlackNotYourMenu, MsgHomeStart, MsgHomeHint, MsgLangName, MsgLangNames,
	MsgCommandStart, MsgCommandSolutions, MsgCommandLang, MsgCommandHuman, MsgCommandHelp,
}

// Message IDs derived from flow IDs.

// QuestionText is the ID of a question's text.
func QuestionText(question string) string { return "question." + question + ".text" }

// OptionLabel is the ID of an option's button label.
func OptionLabel(question, option string) string { return "question." + question + "." + option }

// OutcomeText is the ID of what the bot says on reaching an outcome.
func OutcomeText(outcome string) string { return "outcome." + outcome }

// OutcomeChoice is the ID of an outcome's short label, offered when free text is ambiguous.
func OutcomeChoice(outcome string) string { return "choice." + outcome }

// CauseTitle is the ID of a cause's name.
func CauseTitle(cause string) string { return "cause." + cause + ".title" }

// SolutionTitle is the ID of a solution's name.
func SolutionTitle(solution string) string { return "solution." + solution + ".title" }

// SolutionSteps is the ID of a solution's steps.
func SolutionSteps(solution string) string { return "solution." + solution + ".steps" }

func (k *KB) validateFlow() error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(k.Causes) == 0 {
		fail("no causes listed")
	}
	if len(k.Solutions) == 0 {
		fail("no solutions listed")
	}
	if !slices.Contains(k.Solutions, k.LastResort) {
		fail("last_resort %q is not a listed solution", k.LastResort)
	}
	if _, ok := k.questions[k.Start]; !ok {
		fail("start question %q does not exist", k.Start)
	}
	for _, id := range slices.Sorted(maps.Keys(k.questions)) {
		q := k.questions[id]
		if len(q.Options) < 2 {
			fail("question %q: has %d options, needs at least 2", id, len(q.Options))
		}
		seen := map[string]bool{}
		for _, o := range q.Options {
			if seen[o.ID] {
				fail("question %q: option %q defined twice", id, o.ID)
			}
			seen[o.ID] = true
			targets := 0
			for _, t := range []string{o.Next, o.Outcome, o.Action} {
				if t != "" {
					targets++
				}
			}
			if targets != 1 {
				fail("question %q: option %q must have exactly one of next, outcome or action", id, o.ID)
				continue
			}
			if _, ok := k.questions[o.Next]; o.Next != "" && !ok {
				fail("question %q: option %q: next question %q does not exist", id, o.ID, o.Next)
			}
			if _, ok := k.outcomes[o.Outcome]; o.Outcome != "" && !ok {
				fail("question %q: option %q: outcome %q does not exist", id, o.ID, o.Outcome)
			}
			if o.Action != "" && o.Action != ActionListSolutions {
				fail("question %q: option %q: unknown action %q", id, o.ID, o.Action)
			}
			for _, sol := range o.RulesOut {
				if !slices.Contains(k.Solutions, sol) || sol == k.LastResort {
					fail("question %q: option %q: rules out %q, which is no solution but the last resort", id, o.ID, sol)
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(k.outcomes)) {
		o := k.outcomes[id]
		if o.Cause != "" && !slices.Contains(k.Causes, o.Cause) {
			fail("outcome %q: cause %q is not a listed cause", id, o.Cause)
		}
		if len(o.Solutions) == 0 {
			fail("outcome %q: offers no solutions (a dead end)", id)
		}
		for _, s := range o.Solutions {
			if !slices.Contains(k.Solutions, s) {
				fail("outcome %q: solution %q is not a listed solution", id, s)
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}

	reachedQuestions, reachedOutcomes := k.reachableFrom(k.Start)
	for _, id := range slices.Sorted(maps.Keys(k.questions)) {
		if !reachedQuestions[id] {
			fail("question %q is not reachable from %q", id, k.Start)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(k.outcomes)) {
		if !reachedOutcomes[id] {
			fail("outcome %q is not reachable from %q", id, k.Start)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(k.questions)) {
		if reachedQuestions[id] && !k.leadsToOutcome(id) {
			fail("question %q never leads to an outcome (a dead end)", id)
		}
	}
	solutionReached := map[string]bool{k.LastResort: true}
	causeReached := map[string]bool{}
	for id := range reachedOutcomes {
		o := k.outcomes[id]
		causeReached[o.Cause] = true
		for _, s := range o.Solutions {
			solutionReached[s] = true
		}
	}
	for _, c := range k.Causes {
		if !causeReached[c] {
			fail("cause %q is named by no reachable outcome, so it never leads to solutions", c)
		}
	}
	for _, s := range k.Solutions {
		if !solutionReached[s] {
			fail("solution %q is offered by no reachable outcome", s)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// reachableFrom is the questions and outcomes the flow leads to from question start, start
// among them.
func (k *KB) reachableFrom(start string) (questions, outcomes map[string]bool) {
	questions, outcomes = map[string]bool{}, map[string]bool{}
	queue := []string{start}
	questions[start] = true
	for len(queue) > 0 {
		q := k.questions[queue[0]]
		queue = queue[1:]
		for _, o := range q.Options {
			if o.Next != "" && !questions[o.Next] {
				questions[o.Next] = true
				queue = append(queue, o.Next)
			}
			if o.Outcome != "" {
				outcomes[o.Outcome] = true
			}
		}
	}
	return questions, outcomes
}

// AnsweredAway is the outcomes that the answers given before question rule out: those the
// questions leading to it lead to and it does not. At the amount question, the card can pay
// abroad and its check was completed, so neither the card blocking payments abroad nor the
// bank's check is the cause, whatever "declined 3 times" reads as. The start question, which
// asks what kind of problem it is, rules out none: another kind of problem ("the money was
// taken") is a new problem, not a contradiction.
//
// Callers may append to the slice (its capacity is its length, so that copies) but must not
// change its elements, which the KB shares.
func (k *KB) AnsweredAway(question string) []Target { return slices.Clip(k.answered[question]) }

// answeredAway computes AnsweredAway for every question.
func (k *KB) answeredAway() map[string][]Target {
	away := map[string][]Target{}
	for _, id := range k.questionOrder {
		ruled := map[string]bool{}
		for _, before := range k.questionOrder {
			if before == id || before == k.Start {
				continue
			}
			if passed, outcomes := k.reachableFrom(before); passed[id] {
				for o := range outcomes {
					ruled[o] = !k.ahead[id][o]
				}
			}
		}
		for _, o := range slices.Sorted(maps.Keys(ruled)) {
			if ruled[o] {
				away[id] = append(away[id], Target{Outcome: o})
			}
		}
	}
	return away
}

// leadsToOutcome reports whether some path from question id ends in an outcome or action,
// so that cycles of questions that never end are caught.
func (k *KB) leadsToOutcome(id string) bool {
	seen := map[string]bool{id: true}
	queue := []string{id}
	for len(queue) > 0 {
		q := k.questions[queue[0]]
		queue = queue[1:]
		for _, o := range q.Options {
			if o.Outcome != "" || o.Action != "" {
				return true
			}
			if !seen[o.Next] {
				seen[o.Next] = true
				queue = append(queue, o.Next)
			}
		}
	}
	return false
}

// requiredMessages lists every message ID the flow and the conversation need.
func (k *KB) requiredMessages() []string {
	ids := slices.Clone(fixedMessages)
	for _, qid := range slices.Sorted(maps.Keys(k.questions)) {
		ids = append(ids, QuestionText(qid))
		for _, o := range k.questions[qid].Options {
			ids = append(ids, OptionLabel(qid, o.ID))
		}
	}
	for _, oid := range slices.Sorted(maps.Keys(k.outcomes)) {
		ids = append(ids, OutcomeText(oid), OutcomeChoice(oid))
	}
	for _, c := range k.Causes {
		ids = append(ids, CauseTitle(c))
	}
	for _, s := range k.Solutions {
		ids = append(ids, SolutionTitle(s), SolutionSteps(s))
	}
	for _, c := range k.codes {
		if id := CodeMeaning(c.Means); c.Means != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// validateMessages checks that every required message exists in every language and renders
// with the data the conversation gives it.
func (k *KB) validateMessages(defined map[string]map[string]bool) error {
	sample := map[string]any{"Command": "/x", "IDs": "a, b", "Cause": "c", "Count": 2, "N": 1, "Total": 2, "Title": "t",
		"Quote": "q", "Text": "x", "Who": "w", "Platform": "p", "Lang": "l", "Tried": "t", "Last": "m", "Languages": "/lang en - English"}
	var problems []string
	for _, lang := range k.Languages() {
		for _, id := range k.requiredMessages() {
			if !defined[lang][id] {
				problems = append(problems, fmt.Sprintf("locale %s: message %q is missing", lang, id))
				continue
			}
			// Each message gets only its own fields, as its caller gives them: a field it is
			// not given, or misspelt, would show people "<no value>".
			data := map[string]any{}
			for _, f := range messageFields[id] {
				data[f] = sample[f]
			}
			out, err := k.localizers[lang].Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("locale %s: message %q: %v", lang, id, err))
			case strings.Contains(out, "<no value>"):
				problems = append(problems, fmt.Sprintf("locale %s: message %q uses a field it is not given (it is given: %s)",
					lang, id, strings.Join(messageFields[id], ", ")))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	k.fixed = map[textKey]string{}
	k.templates = map[textKey]fieldTemplate{}
	for _, lang := range k.Languages() {
		for _, id := range k.requiredMessages() {
			t, ok := compileFieldTemplate(k.sources[textKey{lang, id}], k.localizers[lang], id)
			switch {
			case ok && len(t.fields) == 0:
				k.fixed[textKey{lang, id}] = t.text[0]
			case ok:
				k.templates[textKey{lang, id}] = t
			}
		}
	}
	return nil
}
