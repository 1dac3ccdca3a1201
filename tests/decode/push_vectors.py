"""Published push frames from /work/shared/vectors/dlms-vectors.json, as named hex constants."""

# A real Kaifa meter's HAN-port push: HDLC I-frame, DataNotification whose date-time carries a
# stray octet-string tag (09 0C ...), body a structure of 13 (list id, meter id, type, 10 readings).
# source: https://github.com/UtilitechAS/amsreader-firmware/blob/abf92a285f38e7e3903c608d35da86048c4f655c/frames/Kaifa-TN-3p.raw
KAIFA_HAN_FRAME = bytes.fromhex(
    "7EA079010201108093E6E7000F40000000090C07E1090E04151F14FF800000020D09074B464D5F3030310910363937303633"
    "3134303137353339383509084D41333034483345060000040C06000000000600000000060000004E06000007C10600000C9E"
    "0600000D7E060000095F0600000000060000096687967E")
KAIFA_READINGS = (1036, 0, 0, 78, 1985, 3230, 3454, 2399, 0, 2406)

# general-glo-ciphering DataNotification, EK = AK = "MYDUMMYGLOBALKEY", system title 2F19229199164103,
# invocation counter 0x1E5; plaintext 0F000001DB00 09 22 ... (invoke-id 0x1DB, no date-time, octet-string body).
# source: https://github.com/u9n/dlms-cosem/blob/c52e9d44ef81205a3882184a45dfd6ab7c92c67b/tests/test_general_global_cipher.py
GENERAL_GLO_NOTIFICATION = bytes.fromhex(
    "DB082F192291991641033B30000001E5025CE9D2271FD78BE8C204211A916A9D7F587E0A7A814CADEA89E9593F01F92EA8C0"
    "87B5BDFDEFEAB6BECF282DFE49C08F5BE6DC8400")
GENERAL_GLO_KEY = b"MYDUMMYGLOBALKEY"
GENERAL_GLO_TITLE = bytes.fromhex("2F19229199164103")
GENERAL_GLO_BODY = bytes.fromhex("125A8591360000000049000000110000000A5A8513D014800000000D0000000A0100")

# DataNotification without date-time: invoke-id 0x63D76A, body boolean TRUE.
# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/dataNotification_test.go
GOSEM_NOTIFICATION = bytes.fromhex("0F0063D76A000301")

# EventNotificationRequest with time: class 1, 1.0.0.3.0.255, attribute 2, boolean TRUE.
# source: https://github.com/gvtret/gosem/blob/07323ece60b067508d6ea0347459f2fb5d97d7e6/pkg/dlms/eventNotificationRequest_test.go
GOSEM_EVENT_NOTIFICATION = bytes.fromhex("C2010C05DC0101010000000000000000010100000300FF020301")
