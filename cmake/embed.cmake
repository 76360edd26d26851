# Turns the file IN into a C source OUT defining cu_default_policy_json[] and its length.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "/* generated from policy/default.json; do not edit */\n#include <stddef.h>\nextern const char cu_default_policy_json[];\nextern const size_t cu_default_policy_json_len;\nconst char cu_default_policy_json[] = {${body} 0};\nconst size_t cu_default_policy_json_len = ${len};\n")
