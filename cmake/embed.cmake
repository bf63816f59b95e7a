# Turns file IN into a C source OUT defining sg_openapi_json[] and sg_openapi_json_len.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\n"
     "const unsigned char sg_openapi_json[] = {${body} 0x00};\n"
     "const unsigned long sg_openapi_json_len = ${len};\n")
