"""Names vulture cannot see being used: frameworks call them by name or read them as settings.

``make lint`` and ``make test`` run ``vulture engine api tests/vulture_whitelist.py --min-confidence 80``;
at 60 % confidence this list keeps the hooks below out of the report too. A route or a schema field
is used by its decorator or its class, and is not listed.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()

# Flask, flask-smorest and webargs
_.permanent  # session.permanent: the login session outlives the browser
_.request_class  # Flask's request class, for the strict JSON body parser
_._raw_load_json  # webargs' JSON loading hook
_.load_config  # gunicorn's BaseApplication hook (api/server.py)
_.ERROR_SCHEMA  # flask-smorest's problem schema for documented errors

# marshmallow
_.flatten  # a post_dump hook

# openpyxl cell settings
_.data_type
_.quotePrefix

# SQLAlchemy: a type decorator, event listeners and settings
_.cache_ok
_.process_bind_param
_.process_result_value
_.type_annotation_map
_.isolation_level
_._on_connect
_._on_begin

# SpiffWorkflow: the parser and serializer read these by name
_.PROCESS_PARSER_CLASS
_.spiff
_._encoder_mode
_._parent  # a Spiff task's parent id, rewritten by compaction
_.parse_iso_duration  # Spiff's timer reads durations and dates through these (engine/durations.py)
_.get_timedelta_from_start
_.get_datetime

# RestrictedPython's transformer and simpleeval's evaluator call these by name
_._call_print
_.visit_FormattedValue
_._check_disallowed_items

# jsonschema format checkers, registered by decorator
_._is_datetime
_._is_date
_._is_duration

# google-re2 options
_.log_errors
_.never_capture

# Read outside engine/ and api/: by the tests, the bench or straight from the database
_.advance  # ManualClock.advance, the tests' way to move time
_.pids  # the sandbox pool's workers, watched by the tests and the bench
_.locked_by  # which worker leased a job, kept for whoever inspects the job table
_.script_engine  # Spiff's workflow attribute: the sandboxed engine replaces the library's default
