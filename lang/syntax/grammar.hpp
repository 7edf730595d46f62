// The recipe grammar: PEGTL rules only, no actions. Actions that build the AST are in parser.cpp;
// error messages for the must<> points are in errors.hpp. docs/language.md has the same grammar in
// prose with an example of every construct.
#pragma once

#include <tao/pegtl.hpp>

namespace persona::lang::grammar {

namespace pegtl = tao::pegtl;
using pegtl::alnum;
using pegtl::alpha;
using pegtl::any;
using pegtl::blank;
using pegtl::digit;
using pegtl::eof;
using pegtl::eolf;
using pegtl::if_must;
using pegtl::must;
using pegtl::not_at;
using pegtl::not_one;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::rep;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::string;
using pegtl::until;
using pegtl::xdigit;

// ---- lexical ----
struct comment : seq<one<'#'>, until<eolf>> {};
struct sp : sor<pegtl::space, comment> {};
struct ws : star<sp> {};
struct hs : star<blank> {};  // spaces on the same line
struct name_char : sor<alnum, one<'_', '-'>> {};
struct name_first : sor<alpha, one<'_'>> {};
struct word : seq<name_first, star<name_char>> {};
struct bare_word : word {};  // a word used as a value (a label, a setting, a condition operand)

template <typename Str>
struct kw : seq<Str, not_at<name_char>> {};
// clang-format off
struct kw_recipe : kw<TAO_PEGTL_STRING("recipe")> {};
struct kw_version : kw<TAO_PEGTL_STRING("version")> {};
struct kw_import : kw<TAO_PEGTL_STRING("import")> {};
struct kw_extends : kw<TAO_PEGTL_STRING("extends")> {};
struct kw_taxonomy : kw<TAO_PEGTL_STRING("taxonomy")> {};
struct kw_seed : kw<TAO_PEGTL_STRING("seed")> {};
struct kw_table : kw<TAO_PEGTL_STRING("table")> {};
struct kw_distribution : kw<TAO_PEGTL_STRING("distribution")> {};
struct kw_anchor : kw<TAO_PEGTL_STRING("anchor")> {};
struct kw_by : kw<TAO_PEGTL_STRING("by")> {};
struct kw_clamp : kw<TAO_PEGTL_STRING("clamp")> {};
struct kw_truncate : kw<TAO_PEGTL_STRING("truncate")> {};
struct kw_round : kw<TAO_PEGTL_STRING("round")> {};
struct kw_story : kw<TAO_PEGTL_STRING("story")> {};
struct kw_llm : kw<TAO_PEGTL_STRING("llm")> {};
struct kw_from : kw<TAO_PEGTL_STRING("from")> {};
struct kw_x : kw<TAO_PEGTL_STRING("x")> {};
struct kw_as : kw<TAO_PEGTL_STRING("as")> {};
struct kw_prompt : kw<TAO_PEGTL_STRING("prompt")> {};
struct kw_tone : kw<TAO_PEGTL_STRING("tone")> {};
struct kw_random : kw<TAO_PEGTL_STRING("random")> {};
struct kw_attributes : kw<TAO_PEGTL_STRING("attributes")> {};
struct kw_count : kw<TAO_PEGTL_STRING("count")> {};
struct kw_tiers : kw<TAO_PEGTL_STRING("tiers")> {};
struct kw_near : kw<TAO_PEGTL_STRING("near")> {};
struct kw_mid : kw<TAO_PEGTL_STRING("mid")> {};
struct kw_far : kw<TAO_PEGTL_STRING("far")> {};
struct kw_walk : kw<TAO_PEGTL_STRING("walk")> {};
struct kw_prefer : kw<TAO_PEGTL_STRING("prefer")> {};
struct kw_include : kw<TAO_PEGTL_STRING("include")> {};
struct kw_exclude : kw<TAO_PEGTL_STRING("exclude")> {};
struct kw_always : kw<TAO_PEGTL_STRING("always")> {};
struct kw_when : kw<TAO_PEGTL_STRING("when")> {};
struct kw_batch : kw<TAO_PEGTL_STRING("batch")> {};
struct kw_context : kw<TAO_PEGTL_STRING("context")> {};
struct kw_tokens : kw<TAO_PEGTL_STRING("tokens")> {};
struct kw_narrative : kw<TAO_PEGTL_STRING("narrative")> {};
struct kw_words : kw<TAO_PEGTL_STRING("words")> {};
struct kw_model : kw<TAO_PEGTL_STRING("model")> {};
struct kw_output : kw<TAO_PEGTL_STRING("output")> {};
struct kw_and : kw<TAO_PEGTL_STRING("and")> {};
struct kw_or : kw<TAO_PEGTL_STRING("or")> {};
struct kw_not : kw<TAO_PEGTL_STRING("not")> {};
struct kw_in : kw<TAO_PEGTL_STRING("in")> {};
struct kw_has : kw<TAO_PEGTL_STRING("has")> {};
struct kw_population : kw<TAO_PEGTL_STRING("population")> {};
struct kw_calibrate : kw<TAO_PEGTL_STRING("calibrate")> {};
struct kw_oversample : kw<TAO_PEGTL_STRING("oversample")> {};
struct kw_to : kw<TAO_PEGTL_STRING("to")> {};
// clang-format on

// Words that start a top-level statement; they cannot name anchors, steps or tables.
struct top_keyword : sor<kw_recipe, kw_import, kw_extends, kw_taxonomy, kw_seed, kw_table, kw_distribution, kw_anchor,
                         kw_story, kw_attributes, kw_population, kw_narrative, kw_model, kw_output> {};
struct reserved : sor<top_keyword, kw_llm, kw_from, kw_by, kw_clamp, kw_truncate, kw_round, kw_and, kw_or, kw_not,
                      kw_in, kw_when, kw_prompt> {};
struct name : seq<not_at<reserved>, word> {};
struct dotted : seq<word, star<one<'.'>, word>> {};

struct number
    : seq<opt<one<'-'>>, plus<digit>, opt<one<'.'>, plus<digit>>, opt<one<'e', 'E'>, opt<one<'+', '-'>>, plus<digit>>> {
};
struct dots : string<'.', '.'> {};
struct range_full : seq<number, hs, dots, hs, number> {};
struct range_lo : seq<number, hs, dots, not_at<hs, number>> {};
struct range_hi : seq<dots, hs, number> {};
struct range : sor<range_full, range_lo, range_hi> {};
struct single : number {};  // a lone number where a range is allowed: n..n
struct range_or_number : sor<range, single> {};

// \uD800..\uDFFF are UTF-16 surrogates: no character, and no valid UTF-8 either.
struct surrogate : seq<one<'d', 'D'>, one<'8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'A', 'B', 'C', 'D', 'E', 'F'>> {};
struct escape_code
    : sor<one<'n', 't', 'r', '"', '\\', '0', '{', '}'>, seq<one<'u'>, not_at<surrogate>, rep<4, xdigit>>> {};
struct escape : if_must<one<'\\'>, escape_code> {};
struct str_char : sor<escape, not_one<'"', '\\', '\n', '\r'>> {};
struct str_close : one<'"'> {};
struct dq_body : until<str_close, str_char> {};
struct dq_string : if_must<one<'"'>, dq_body> {};
struct tq_delim : string<'"', '"', '"'> {};
struct tq_body : until<tq_delim, any> {};
struct tq_string : if_must<tq_delim, tq_body> {};
struct string_lit : sor<tq_string, dq_string> {};

// ---- conditions (shared with taxonomy applicability rules) ----
struct cmp_op
    : sor<string<'<', '='>, string<'>', '='>, string<'!', '='>, string<'=', '='>, one<'='>, one<'<'>, one<'>'>> {};
struct op_in : kw_in {};
struct op_not_in : seq<kw_not, ws, kw_in> {};
struct cond_value : sor<number, string_lit, bare_word> {};
struct value_list : if_must<one<'('>, ws, cond_value, star<ws, if_must<one<','>, ws, cond_value>>, ws, one<')'>> {};
struct cond_var : name {};
struct absent_mark : one<'?'> {};  // `employment? = student`: true when the persona has no employment
struct cond_subject : seq<cond_var, opt<absent_mark>> {};
struct cond_rhs : sor<seq<op_not_in, ws, value_list>, seq<op_in, ws, value_list>, if_must<cmp_op, ws, cond_value>> {};
struct comparison : if_must<cond_subject, ws, cond_rhs> {};
struct has_test : seq<kw_has, ws, cond_var> {};  // `has employment`: the persona has the fact
struct condition;
// paren_cond and negation are the only recursive rules; the parser counts their openers to limit
// the nesting depth (cond::max_nesting).
struct paren_open : one<'('> {};
struct not_open : kw_not {};
struct paren_cond : if_must<paren_open, ws, condition, ws, one<')'>> {};
struct not_expr;
struct negation : if_must<not_open, ws, not_expr> {};
struct not_expr : sor<negation, paren_cond, has_test, comparison> {};
struct and_expr : seq<not_expr, star<ws, kw_and, ws, must<not_expr>>> {};
struct or_expr : seq<and_expr, star<ws, kw_or, ws, must<and_expr>>> {};
struct condition : or_expr {};
struct cond_end : eof {};
struct condition_only : seq<ws, must<condition>, ws, must<cond_end>> {};

// ---- distributions ----
struct number_label : number {};  // { 1: 0.3, 2: 0.7 }: a numeric label
struct choice_label : sor<string_lit, number_label, bare_word> {};
struct choice : if_must<choice_label, ws, one<':'>, ws, number> {};
struct choice_list : seq<choice, star<ws, one<','>, ws, choice>, ws, opt<one<','>, ws>> {};
struct categorical : if_must<one<'{'>, ws, choice_list, one<'}'>> {};
struct by_list : if_must<kw_by, ws, name, star<ws, if_must<one<','>, ws, name>>> {};
struct table_draw : if_must<kw_table, ws, dotted, opt<ws, by_list>> {};
struct numeric_args : if_must<one<'('>, ws, number, star<ws, if_must<one<','>, ws, number>>, ws, one<')'>> {};
struct numeric : seq<name, hs, numeric_args> {};
struct dist_ref : name {};
struct dist_form : sor<categorical, table_draw, numeric, dist_ref> {};
struct bound_kind : sor<kw_clamp, kw_truncate> {};
struct bound : if_must<bound_kind, ws, range> {};
struct round_flag : kw_round {};
struct distribution : seq<dist_form, opt<ws, bound>, opt<ws, round_flag>> {};

// ---- statements ----
struct recipe_version : if_must<kw_version, ws, string_lit> {};
struct recipe_decl : if_must<kw_recipe, ws, string_lit, opt<ws, recipe_version>> {};
struct include_kind : sor<kw_import, kw_extends> {};
struct include_decl : if_must<include_kind, ws, string_lit> {};
struct taxonomy_ref : sor<string_lit, dotted> {};
struct taxonomy_decl : if_must<kw_taxonomy, ws, taxonomy_ref> {};
struct seed_decl : if_must<kw_seed, ws, number> {};
struct table_decl : if_must<kw_table, ws, name, ws, one<'='>, ws, string_lit> {};
struct dist_decl : if_must<kw_distribution, ws, name, ws, one<'='>, ws, distribution> {};
struct fixed_value : sor<string_lit, number> {};
struct anchor_fixed : if_must<one<'='>, ws, fixed_value> {};
struct anchor_draw : if_must<one<'~'>, ws, distribution> {};
struct anchor_def : sor<anchor_fixed, anchor_draw> {};
struct anchor_decl : if_must<kw_anchor, ws, name, ws, anchor_def> {};

struct arrow : string<'<', '-'> {};
struct field_type : word {};
struct field : seq<name, opt<ws, one<':'>, ws, field_type>> {};
struct shape_list : if_must<kw_x, ws, range_or_number> {};
struct shape_object
    : if_must<kw_as, ws, one<'{'>, ws, field, star<ws, one<','>, ws, field>, ws, opt<one<','>, ws>, one<'}'>> {};
struct from_clause : if_must<kw_from, ws, name, star<ws, if_must<one<','>, ws, name>>> {};
struct prompt_clause : if_must<kw_prompt, ws, string_lit> {};
struct tone_random : if_must<kw_random, ws, one<'('>, ws, name, star<ws, one<','>, ws, name>, ws, one<')'>> {};
struct tone_value : sor<tone_random, name> {};
struct tone_clause : if_must<kw_tone, ws, tone_value> {};
struct step_clause : sor<shape_list, shape_object, from_clause, prompt_clause, tone_clause> {};
struct step_head : seq<name, ws, arrow> {};
struct story_step : if_must<step_head, ws, kw_llm, ws, string_lit, star<ws, step_clause>> {};
struct story_close : one<'}'> {};
struct story_block : if_must<kw_story, ws, one<'{'>, ws, star<story_step, ws>, story_close> {};

struct count_stmt : if_must<kw_count, ws, range_or_number> {};
struct tier_sep : opt<ws, one<','>> {};
struct tiers_stmt
    : if_must<kw_tiers, ws, kw_near, ws, number, tier_sep, ws, kw_mid, ws, number, tier_sep, ws, kw_far, ws, number> {};
struct walk_kind : word {};
struct prefer_kind : word {};
struct walk_stmt : if_must<kw_walk, ws, walk_kind, opt<ws, kw_prefer, ws, prefer_kind>> {};
struct filter_kind : sor<kw_include, kw_exclude> {};
struct star_glob : one<'*'> {};
struct when_clause : if_must<kw_when, ws, condition> {};
struct filter_glob : sor<string_lit, star_glob> {};
struct filter_stmt : if_must<filter_kind, ws, filter_glob, opt<ws, when_clause>> {};
// `always "GLOB"`: a panel, attributes every persona receives.
struct panel_glob : string_lit {};
struct always_stmt : if_must<kw_always, ws, panel_glob> {};
struct batch_stmt : if_must<kw_batch, ws, number> {};
struct context_stmt : if_must<kw_context, ws, number, opt<hs, kw_tokens>> {};
struct attr_stmt : sor<count_stmt, tiers_stmt, walk_stmt, filter_stmt, always_stmt, batch_stmt, context_stmt> {};
struct attributes_close : one<'}'> {};
struct attributes_block : if_must<kw_attributes, ws, one<'{'>, ws, star<attr_stmt, ws>, attributes_close> {};

// population { calibrate region, gender, age to table census  oversample region = Wales x 3 }
struct calibrate_to : if_must<kw_to, ws, kw_table, ws, dotted> {};
struct calibrate_stmt : if_must<kw_calibrate, ws, name, star<ws, if_must<one<','>, ws, name>>, opt<ws, calibrate_to>> {
};
struct oversample_factor : if_must<kw_x, ws, number> {};
struct oversample_stmt : if_must<kw_oversample, ws, condition, ws, oversample_factor> {};
struct population_stmt : sor<calibrate_stmt, oversample_stmt> {};
struct population_close : one<'}'> {};
struct kw_population_open : kw_population {};
struct population_block : if_must<kw_population_open, ws, one<'{'>, ws, star<population_stmt, ws>, population_close> {};

struct narrative_voice : word {};
struct narrative_words : if_must<range_or_number, ws, kw_words> {};
struct narrative_decl : if_must<kw_narrative, ws, narrative_voice, opt<ws, narrative_words>, opt<ws, prompt_clause>> {};

// `model` may name a setting on the model line (model "openai" model "gpt-4o-mini").
struct param_key : sor<kw_model, seq<not_at<top_keyword>, word>> {};
struct param_value : sor<number, string_lit, bare_word> {};
struct param_gap : plus<blank> {};
struct param : if_must<param_key, param_gap, param_value> {};
struct model_decl : if_must<kw_model, ws, string_lit, star<plus<blank>, param>> {};
struct output_close : one<'}'> {};
struct output_key : word {};  // inside braces any word is a key (narrative on)
struct output_param : if_must<output_key, ws, param_value> {};
struct output_block : if_must<kw_output, ws, one<'{'>, ws, star<output_param, ws>, output_close> {};

// Anything else at statement level: a word (reported as an unknown statement, with a suggestion).
struct bad_statement : word {};
struct statement
    : sor<recipe_decl, include_decl, taxonomy_decl, seed_decl, table_decl, dist_decl, anchor_decl, story_block,
          attributes_block, population_block, narrative_decl, model_decl, output_block, bad_statement> {};
struct bom : string<'\xEF', '\xBB', '\xBF'> {};
struct end_of_recipe : eof {};
struct recipe : seq<opt<bom>, ws, star<statement, ws>, must<end_of_recipe>> {};

}  // namespace persona::lang::grammar
