window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2129254516390414683"
          ],
          "editableUntil" : "2026-12-05T17:40:11.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "denverdan_runs",
            "screen_name" : "denverdan_runs",
            "indices" : [
              "0",
              "15"
            ],
            "id_str" : "3318820441",
            "id" : "3318820441"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "16",
        "86"
      ],
      "favorite_count" : "231",
      "id_str" : "2129254516390414683",
      "truncated" : false,
      "retweet_count" : "51",
      "id" : "2129254516390414683",
      "created_at" : "Sat Dec 05 16:40:11 +0000 2026",
      "favorited" : false,
      "full_text" : "@denverdan_runs YES it happens in snow. it has never not happened. yaktrax recommended",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2129204321886382447",
      "in_reply_to_status_id" : "2129204321886382447",
      "in_reply_to_user_id" : "3318820441",
      "in_reply_to_user_id_str" : "3318820441",
      "in_reply_to_screen_name" : "denverdan_runs"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2129245150508192625"
          ],
          "editableUntil" : "2026-12-05T17:02:58.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "74"
      ],
      "favorite_count" : "244",
      "id_str" : "2129245150508192625",
      "truncated" : false,
      "retweet_count" : "16",
      "id" : "2129245150508192625",
      "created_at" : "Sat Dec 05 16:02:58 +0000 2026",
      "favorited" : false,
      "full_text" : "Saturday long run: 7am, 12°F, feels like 2. we still went. we are not ok 🥶",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2128870754354140025"
          ],
          "editableUntil" : "2026-12-04T16:15:15.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "143"
      ],
      "favorite_count" : "377",
      "id_str" : "2128870754354140025",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "2128870754354140025",
      "created_at" : "Fri Dec 04 15:15:15 +0000 2026",
      "favorited" : false,
      "full_text" : "holiday studio hours, screenshot this: Christmas Eve 6-10am only. closed Christmas Day. NYE open till noon. closed Jan 1. MLK day mornings only",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2128576125467163275"
          ],
          "editableUntil" : "2026-12-03T20:44:30.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "runnerkatie_",
            "screen_name" : "runnerkatie_",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1602219870033362944",
            "id" : "1602219870033362944"
          },
          {
            "name" : "strideandsteel",
            "screen_name" : "strideandsteel",
            "indices" : [
              "106",
              "121"
            ],
            "id_str" : "0",
            "id" : "0"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "129"
      ],
      "favorite_count" : "421",
      "id_str" : "2128576125467163275",
      "truncated" : false,
      "retweet_count" : "25",
      "id" : "2128576125467163275",
      "created_at" : "Thu Dec 03 19:44:30 +0000 2026",
      "favorited" : false,
      "full_text" : "@runnerkatie_ yes you can swap programmes once if the one you bought isn't the right fit, just email hello@strideandsteel.example",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2128546992457535782",
      "in_reply_to_status_id" : "2128546992457535782",
      "in_reply_to_user_id" : "1602219870033362944",
      "in_reply_to_user_id_str" : "1602219870033362944",
      "in_reply_to_screen_name" : "runnerkatie_"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2128174856404611702"
          ],
          "editableUntil" : "2026-12-02T18:10:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "NegativeSplitsPod",
            "screen_name" : "NegativeSplitsPod",
            "indices" : [
              "3",
              "21"
            ],
            "id_str" : "1210448812901167104",
            "id" : "1210448812901167104"
          },
          {
            "name" : "tessalindruns",
            "screen_name" : "tessalindruns",
            "indices" : [
              "45",
              "59"
            ],
            "id_str" : "1187442069312876544",
            "id" : "1187442069312876544"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "154"
      ],
      "favorite_count" : "0",
      "id_str" : "2128174856404611702",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2128174856404611702",
      "created_at" : "Wed Dec 02 17:10:00 +0000 2026",
      "favorited" : false,
      "full_text" : "RT @NegativeSplitsPod: Next week on the pod: @tessalindruns on strength training for runners + why your calves matter more than your abs. Out Thu Dec 10 🎧",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2127795804569438067"
          ],
          "editableUntil" : "2026-12-01T17:03:47.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "76"
      ],
      "favorite_count" : "275",
      "id_str" : "2127795804569438067",
      "truncated" : false,
      "retweet_count" : "34",
      "id" : "2127795804569438067",
      "created_at" : "Tue Dec 01 16:03:47 +0000 2026",
      "favorited" : false,
      "full_text" : "1:1 coaching is full again 🙏 waitlist is open, next spots open up in January",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2127657702915140665"
          ],
          "editableUntil" : "2026-12-01T07:55:01.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "49"
      ],
      "favorite_count" : "468",
      "id_str" : "2127657702915140665",
      "truncated" : false,
      "retweet_count" : "10",
      "id" : "2127657702915140665",
      "created_at" : "Tue Dec 01 06:55:01 +0000 2026",
      "favorited" : false,
      "full_text" : "Last day for STEEL25, ends at midnight MT tonight",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2126747039825274829"
          ],
          "editableUntil" : "2026-11-28T19:36:22.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "93"
      ],
      "favorite_count" : "359",
      "id_str" : "2126747039825274829",
      "truncated" : false,
      "retweet_count" : "54",
      "id" : "2126747039825274829",
      "created_at" : "Sat Nov 28 18:36:22 +0000 2026",
      "favorited" : false,
      "full_text" : "The 2027 Training Log is at the printer!!! preorders ship the week of Dec 14. $24 in the shop",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2126300002515076063"
          ],
          "editableUntil" : "2026-11-27T14:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "128"
      ],
      "favorite_count" : "391",
      "id_str" : "2126300002515076063",
      "truncated" : false,
      "retweet_count" : "33",
      "id" : "2126300002515076063",
      "created_at" : "Fri Nov 27 13:00:00 +0000 2026",
      "favorited" : false,
      "full_text" : "BLACK FRIDAY: 25% off every programme through Monday 11/30 with code STEEL25. Doesn't apply to 1:1 coaching or the shop, sorry!!",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2124916154823800012"
          ],
          "editableUntil" : "2026-11-23T18:21:05.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "76"
      ],
      "favorite_count" : "273",
      "id_str" : "2124916154823800012",
      "truncated" : false,
      "retweet_count" : "23",
      "id" : "2124916154823800012",
      "created_at" : "Mon Nov 23 17:21:05 +0000 2026",
      "favorited" : false,
      "full_text" : "Studio closed Thursday for Thanksgiving 🦃 Friday 6am class is ON. go eat pie",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2123796674117360509"
          ],
          "editableUntil" : "2026-11-20T16:12:40.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "runnerkatie_",
            "screen_name" : "runnerkatie_",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1602219870033362944",
            "id" : "1602219870033362944"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "87"
      ],
      "favorite_count" : "248",
      "id_str" : "2123796674117360509",
      "truncated" : false,
      "retweet_count" : "53",
      "id" : "2123796674117360509",
      "created_at" : "Fri Nov 20 15:12:40 +0000 2026",
      "favorited" : false,
      "full_text" : "@runnerkatie_ you can do it on a treadmill, there's an incline version of every session",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2123772950768003463",
      "in_reply_to_status_id" : "2123772950768003463",
      "in_reply_to_user_id" : "1602219870033362944",
      "in_reply_to_user_id_str" : "1602219870033362944",
      "in_reply_to_screen_name" : "runnerkatie_"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2123778386951662278"
          ],
          "editableUntil" : "2026-11-20T15:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "134"
      ],
      "favorite_count" : "76",
      "id_str" : "2123778386951662278",
      "truncated" : false,
      "retweet_count" : "6",
      "id" : "2123778386951662278",
      "created_at" : "Fri Nov 20 14:00:00 +0000 2026",
      "favorited" : false,
      "full_text" : "Announcing HILL BLOCK ⛰️ 6 weeks of hill repeats, strides &amp; strength. Launches Jan 5. Preorder now for $45, goes to $55 on launch day.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2121706845373364483"
          ],
          "editableUntil" : "2026-11-14T21:48:26.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "133"
      ],
      "favorite_count" : "248",
      "id_str" : "2121706845373364483",
      "truncated" : false,
      "retweet_count" : "30",
      "id" : "2121706845373364483",
      "created_at" : "Sat Nov 14 20:48:26 +0000 2026",
      "favorited" : false,
      "full_text" : "Workshop crew today 💪 30 of you crammed into a room meant for 20. Next one is Sat Jan 16, same time. I'll get a bigger room (I won't)",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2119814820003749096"
          ],
          "editableUntil" : "2026-11-09T16:30:12.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "136"
      ],
      "favorite_count" : "65",
      "id_str" : "2119814820003749096",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "2119814820003749096",
      "created_at" : "Mon Nov 09 15:30:12 +0000 2026",
      "favorited" : false,
      "full_text" : "FREE Strength for Runners workshop at the studio Sat Nov 14, 11:15am (right after long run). bring a mat. 20 spots, RSVP via link in bio",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2118136112740998705"
          ],
          "editableUntil" : "2026-11-05T01:19:37.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "leahlovesleg",
            "screen_name" : "leahlovesleg",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1501873320014983168",
            "id" : "1501873320014983168"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "73"
      ],
      "favorite_count" : "79",
      "id_str" : "2118136112740998705",
      "truncated" : false,
      "retweet_count" : "40",
      "id" : "2118136112740998705",
      "created_at" : "Thu Nov 05 00:19:37 +0000 2026",
      "favorited" : false,
      "full_text" : "@leahlovesleg yes!! 5K From Zero is built around walk-run, you'll be fine",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2118050350069385408",
      "in_reply_to_status_id" : "2118050350069385408",
      "in_reply_to_user_id" : "1501873320014983168",
      "in_reply_to_user_id_str" : "1501873320014983168",
      "in_reply_to_screen_name" : "leahlovesleg"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2117296891230379174"
          ],
          "editableUntil" : "2026-11-02T17:44:51.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "maddogmiles",
            "screen_name" : "maddogmiles",
            "indices" : [
              "0",
              "12"
            ],
            "id_str" : "1420558872210001920",
            "id" : "1420558872210001920"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "13",
        "72"
      ],
      "favorite_count" : "189",
      "id_str" : "2117296891230379174",
      "truncated" : false,
      "retweet_count" : "39",
      "id" : "2117296891230379174",
      "created_at" : "Mon Nov 02 16:44:51 +0000 2026",
      "favorited" : false,
      "full_text" : "@maddogmiles yep, effort based + a treadmill option for every single run",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2117285995516203692",
      "in_reply_to_status_id" : "2117285995516203692",
      "in_reply_to_user_id" : "1420558872210001920",
      "in_reply_to_user_id_str" : "1420558872210001920",
      "in_reply_to_screen_name" : "maddogmiles"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2117255422145903308"
          ],
          "editableUntil" : "2026-11-02T15:00:04.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "121"
      ],
      "favorite_count" : "3",
      "id_str" : "2117255422145903308",
      "truncated" : false,
      "retweet_count" : "36",
      "id" : "2117255422145903308",
      "created_at" : "Mon Nov 02 14:00:04 +0000 2026",
      "favorited" : false,
      "full_text" : "WINTER BASE CAMP IS LIVE ❄️ 8 wks of easy aerobic volume + 2 strength days, built for treadmill OR snow. $64. link in bio",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2115141476155942518"
          ],
          "editableUntil" : "2026-10-27T19:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "77"
      ],
      "favorite_count" : "59",
      "id_str" : "2115141476155942518",
      "truncated" : false,
      "retweet_count" : "21",
      "id" : "2115141476155942518",
      "created_at" : "Tue Oct 27 18:00:00 +0000 2026",
      "favorited" : false,
      "full_text" : "Something new drops Nov 2. It's cold-weather themed. That's all I'm saying ❄️",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2112530605798848444"
          ],
          "editableUntil" : "2026-10-20T14:05:20.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "103"
      ],
      "favorite_count" : "37",
      "id_str" : "2112530605798848444",
      "truncated" : false,
      "retweet_count" : "13",
      "id" : "2112530605798848444",
      "created_at" : "Tue Oct 20 13:05:20 +0000 2026",
      "favorited" : false,
      "full_text" : "unpopular opinion: stop static stretching before easy runs. 5 min of leg swings + walking lunges and go",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2110422330507465149"
          ],
          "editableUntil" : "2026-10-14T18:27:48.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "milesformarco",
            "screen_name" : "milesformarco",
            "indices" : [
              "0",
              "14"
            ],
            "id_str" : "1279004412987125760",
            "id" : "1279004412987125760"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "15",
        "133"
      ],
      "favorite_count" : "56",
      "id_str" : "2110422330507465149",
      "truncated" : false,
      "retweet_count" : "30",
      "id" : "2110422330507465149",
      "created_at" : "Wed Oct 14 17:27:48 +0000 2026",
      "favorited" : false,
      "full_text" : "@milesformarco refund window is 14 days from purchase as long as you haven't gone past week 1. email me your order # and I'll sort it",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2110364973517321394",
      "in_reply_to_status_id" : "2110364973517321394",
      "in_reply_to_user_id" : "1279004412987125760",
      "in_reply_to_user_id_str" : "1279004412987125760",
      "in_reply_to_screen_name" : "milesformarco"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2108229066031249784"
          ],
          "editableUntil" : "2026-10-08T17:12:33.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "coachdev_k",
            "screen_name" : "coachdev_k",
            "indices" : [
              "3",
              "14"
            ],
            "id_str" : "887120394",
            "id" : "887120394"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "126"
      ],
      "favorite_count" : "0",
      "id_str" : "2108229066031249784",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2108229066031249784",
      "created_at" : "Thu Oct 08 16:12:33 +0000 2026",
      "favorited" : false,
      "full_text" : "RT @coachdev_k: Fall is the best time to build an aerobic base. Don't let anyone tell you the off-season is for doing nothing.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2105805270021499197"
          ],
          "editableUntil" : "2026-10-02T00:41:15.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "65"
      ],
      "favorite_count" : "463",
      "id_str" : "2105805270021499197",
      "truncated" : false,
      "retweet_count" : "55",
      "id" : "2105805270021499197",
      "created_at" : "Thu Oct 01 23:41:15 +0000 2026",
      "favorited" : false,
      "full_text" : "10K Builder cohort filled in 2 days?? wild. next one opens in Feb",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2101992324726310980"
          ],
          "editableUntil" : "2026-09-21T12:09:58.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "71"
      ],
      "favorite_count" : "356",
      "id_str" : "2101992324726310980",
      "truncated" : false,
      "retweet_count" : "54",
      "id" : "2101992324726310980",
      "created_at" : "Mon Sep 21 11:09:58 +0000 2026",
      "favorited" : false,
      "full_text" : "Tokyo Marathon lottery..... I GOT IN. March 7, 2027. someone hold me 🇯🇵",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2097331630897276294"
          ],
          "editableUntil" : "2026-09-08T15:30:02.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "jogbyjess",
            "screen_name" : "jogbyjess",
            "indices" : [
              "0",
              "10"
            ],
            "id_str" : "982311450120507392",
            "id" : "982311450120507392"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "11",
        "71"
      ],
      "favorite_count" : "276",
      "id_str" : "2097331630897276294",
      "truncated" : false,
      "retweet_count" : "23",
      "id" : "2097331630897276294",
      "created_at" : "Tue Sep 08 14:30:02 +0000 2026",
      "favorited" : false,
      "full_text" : "@jogbyjess honestly both are fine, use whatever's already on your wrist",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2097250926570039951",
      "in_reply_to_status_id" : "2097250926570039951",
      "in_reply_to_user_id" : "982311450120507392",
      "in_reply_to_user_id_str" : "982311450120507392",
      "in_reply_to_screen_name" : "jogbyjess"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2097322139187631874"
          ],
          "editableUntil" : "2026-09-08T14:52:19.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "144"
      ],
      "favorite_count" : "147",
      "id_str" : "2097322139187631874",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2097322139187631874",
      "created_at" : "Tue Sep 08 13:52:19 +0000 2026",
      "favorited" : false,
      "full_text" : "ok I caved. sold the Garmin, running with a Coros Pace 3 now. the battery life is absurd. Polar H10 strap for anything where HR actually matters",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2087002733672619454"
          ],
          "editableUntil" : "2026-08-11T03:26:41.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "coachdev_k",
            "screen_name" : "coachdev_k",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "887120394",
            "id" : "887120394"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "60"
      ],
      "favorite_count" : "340",
      "id_str" : "2087002733672619454",
      "truncated" : false,
      "retweet_count" : "14",
      "id" : "2087002733672619454",
      "created_at" : "Tue Aug 11 02:26:41 +0000 2026",
      "favorited" : false,
      "full_text" : "@coachdev_k lol do not @ me about carbon plates on easy days",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2086933482295508256",
      "in_reply_to_status_id" : "2086933482295508256",
      "in_reply_to_user_id" : "887120394",
      "in_reply_to_user_id_str" : "887120394",
      "in_reply_to_screen_name" : "coachdev_k"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2084655596960581955"
          ],
          "editableUntil" : "2026-08-04T16:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "171"
      ],
      "favorite_count" : "45",
      "id_str" : "2084655596960581955",
      "truncated" : false,
      "retweet_count" : "11",
      "id" : "2084655596960581955",
      "created_at" : "Tue Aug 04 15:00:00 +0000 2026",
      "favorited" : false,
      "full_text" : "Heads up: on Sept 1, 1:1 coaching goes from $150 → $165/mo and Coached+ from $199 → $225/mo. If you're already training with me your price is locked. Thank you for 4 yrs 🧡",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2077454186708181837"
          ],
          "editableUntil" : "2026-07-15T19:04:10.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "leahlovesleg",
            "screen_name" : "leahlovesleg",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1501873320014983168",
            "id" : "1501873320014983168"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "107"
      ],
      "favorite_count" : "186",
      "id_str" : "2077454186708181837",
      "truncated" : false,
      "retweet_count" : "43",
      "id" : "2077454186708181837",
      "created_at" : "Wed Jul 15 18:04:10 +0000 2026",
      "favorited" : false,
      "full_text" : "@leahlovesleg ah sorry! I only coach 16 and up. for younger runners I'd talk to their school XC coach first",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2077399641848290632",
      "in_reply_to_status_id" : "2077399641848290632",
      "in_reply_to_user_id" : "1501873320014983168",
      "in_reply_to_user_id_str" : "1501873320014983168",
      "in_reply_to_screen_name" : "leahlovesleg"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2072795917188304955"
          ],
          "editableUntil" : "2026-07-02T22:33:52.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "79"
      ],
      "favorite_count" : "422",
      "id_str" : "2072795917188304955",
      "truncated" : false,
      "retweet_count" : "27",
      "id" : "2072795917188304955",
      "created_at" : "Thu Jul 02 21:33:52 +0000 2026",
      "favorited" : false,
      "full_text" : "It's 97 degrees. Run your easy runs by effort, not pace. Your ego will survive.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2071972134910249853"
          ],
          "editableUntil" : "2026-06-30T16:00:27.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "148"
      ],
      "favorite_count" : "208",
      "id_str" : "2071972134910249853",
      "truncated" : false,
      "retweet_count" : "35",
      "id" : "2071972134910249853",
      "created_at" : "Tue Jun 30 15:00:27 +0000 2026",
      "favorited" : false,
      "full_text" : "Half Marathon PR Chaser got a refresh: it's now 14 weeks (was 12), w a proper cutback every 3rd week. Same price, $97. Finish Strong stays 12 weeks.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2064324417160187272"
          ],
          "editableUntil" : "2026-06-09T13:31:09.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "trailtomwest",
            "screen_name" : "trailtomwest",
            "indices" : [
              "3",
              "16"
            ],
            "id_str" : "2290118472",
            "id" : "2290118472"
          },
          {
            "name" : "tessalindruns",
            "screen_name" : "tessalindruns",
            "indices" : [
              "28",
              "42"
            ],
            "id_str" : "1187442069312876544",
            "id" : "1187442069312876544"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "125"
      ],
      "favorite_count" : "0",
      "id_str" : "2064324417160187272",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "2064324417160187272",
      "created_at" : "Tue Jun 09 12:31:09 +0000 2026",
      "favorited" : false,
      "full_text" : "RT @trailtomwest: Week 3 of @tessalindruns Strength for Runners and my knees have stopped filing complaints. highly recommend",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2060033287649267256"
          ],
          "editableUntil" : "2026-05-28T17:19:44.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "181"
      ],
      "favorite_count" : "206",
      "id_str" : "2060033287649267256",
      "truncated" : false,
      "retweet_count" : "25",
      "id" : "2060033287649267256",
      "created_at" : "Thu May 28 16:19:44 +0000 2026",
      "favorited" : false,
      "full_text" : "Shoe rotation since you keep asking: daily miles in Brooks Ghost 16, long runs + workouts in Saucony Endorphin Speed 4, race day Nike Alphafly 3. That's it. You do not need 9 pairs.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2053848853509540817"
          ],
          "editableUntil" : "2026-05-11T15:45:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "165"
      ],
      "favorite_count" : "396",
      "id_str" : "2053848853509540817",
      "truncated" : false,
      "retweet_count" : "18",
      "id" : "2053848853509540817",
      "created_at" : "Mon May 11 14:45:00 +0000 2026",
      "favorited" : false,
      "full_text" : "PSA Denver folks: summer schedule starts June 1 ☀️ Saturday long run leaves the studio at 6:30am instead of 7. Mon/Wed evening class moves to 6pm bc it's 95° at 5:30",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2046397404021463252"
          ],
          "editableUntil" : "2026-04-21T02:15:36.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "coachdev_k",
            "screen_name" : "coachdev_k",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "887120394",
            "id" : "887120394"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "62"
      ],
      "favorite_count" : "89",
      "id_str" : "2046397404021463252",
      "truncated" : false,
      "retweet_count" : "39",
      "id" : "2046397404021463252",
      "created_at" : "Tue Apr 21 01:15:36 +0000 2026",
      "favorited" : false,
      "full_text" : "@coachdev_k ha yeah I didn't race it, I ran it. big difference",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2046326923832593244",
      "in_reply_to_status_id" : "2046326923832593244",
      "in_reply_to_user_id" : "887120394",
      "in_reply_to_user_id_str" : "887120394",
      "in_reply_to_screen_name" : "coachdev_k"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2046317489946714525"
          ],
          "editableUntil" : "2026-04-20T20:58:03.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "100"
      ],
      "favorite_count" : "14",
      "id_str" : "2046317489946714525",
      "truncated" : false,
      "retweet_count" : "60",
      "id" : "2046317489946714525",
      "created_at" : "Mon Apr 20 19:58:03 +0000 2026",
      "favorited" : false,
      "full_text" : "Boston: 3:04:51. Hills humbled me, the crowds carried me. Zero regrets. Newton, we meet again never.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2033197094665691446"
          ],
          "editableUntil" : "2026-03-15T16:02:17.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "124"
      ],
      "favorite_count" : "148",
      "id_str" : "2033197094665691446",
      "truncated" : false,
      "retweet_count" : "45",
      "id" : "2033197094665691446",
      "created_at" : "Sun Mar 15 15:02:17 +0000 2026",
      "favorited" : false,
      "full_text" : "best way to attack a steep hill: shorten your stride, drive the arms, eyes 10m ahead. not at your feet. and NEVER at the top",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2028961296417599297"
          ],
          "editableUntil" : "2026-03-03T23:30:44.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "69"
      ],
      "favorite_count" : "34",
      "id_str" : "2028961296417599297",
      "truncated" : false,
      "retweet_count" : "46",
      "id" : "2028961296417599297",
      "created_at" : "Tue Mar 03 22:30:44 +0000 2026",
      "favorited" : false,
      "full_text" : "Boston bib number just dropped and I am irrationally excited about it",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2024215298835113199"
          ],
          "editableUntil" : "2026-02-18T21:11:50.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "runs_w_priya",
            "screen_name" : "runs_w_priya",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1334098812443615232",
            "id" : "1334098812443615232"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "137"
      ],
      "favorite_count" : "433",
      "id_str" : "2024215298835113199",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "2024215298835113199",
      "created_at" : "Wed Feb 18 20:11:50 +0000 2026",
      "favorited" : false,
      "full_text" : "@runs_w_priya I don't do meal plans or macros, not my lane. Find a registered dietitian who works w endurance athletes, worth every penny",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2024176305792005657",
      "in_reply_to_status_id" : "2024176305792005657",
      "in_reply_to_user_id" : "1334098812443615232",
      "in_reply_to_user_id_str" : "1334098812443615232",
      "in_reply_to_screen_name" : "runs_w_priya"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2018741325266735781"
          ],
          "editableUntil" : "2026-02-03T18:40:13.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "114"
      ],
      "favorite_count" : "299",
      "id_str" : "2018741325266735781",
      "truncated" : false,
      "retweet_count" : "51",
      "id" : "2018741325266735781",
      "created_at" : "Tue Feb 03 17:40:13 +0000 2026",
      "favorited" : false,
      "full_text" : "Reminder the studio is CLOSED on Sundays. please stop showing up at 7am on Sunday lol. Saturday is long run day ❤️",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2016166836303425399"
          ],
          "editableUntil" : "2026-01-27T16:10:07.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "83"
      ],
      "favorite_count" : "177",
      "id_str" : "2016166836303425399",
      "truncated" : false,
      "retweet_count" : "44",
      "id" : "2016166836303425399",
      "created_at" : "Tue Jan 27 15:10:07 +0000 2026",
      "favorited" : false,
      "full_text" : "3/ Two sessions a week in base, one in race week. That's it. Consistency &gt; heroics.",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2016166832109745210",
      "in_reply_to_status_id" : "2016166832109745210",
      "in_reply_to_user_id" : "1187442069312876544",
      "in_reply_to_user_id_str" : "1187442069312876544",
      "in_reply_to_screen_name" : "tessalindruns"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2016166832109745210"
          ],
          "editableUntil" : "2026-01-27T16:10:06.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "134"
      ],
      "favorite_count" : "218",
      "id_str" : "2016166832109745210",
      "truncated" : false,
      "retweet_count" : "2",
      "id" : "2016166832109745210",
      "created_at" : "Tue Jan 27 15:10:06 +0000 2026",
      "favorited" : false,
      "full_text" : "2/ Keep it short. 30 min is enough. Squat or split squat, a hinge (RDL), calf raises, something for your core that isn't 400 crunches.",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2016166827917673740",
      "in_reply_to_status_id" : "2016166827917673740",
      "in_reply_to_user_id" : "1187442069312876544",
      "in_reply_to_user_id_str" : "1187442069312876544",
      "in_reply_to_screen_name" : "tessalindruns"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2016166827917673740"
          ],
          "editableUntil" : "2026-01-27T16:10:05.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "153"
      ],
      "favorite_count" : "390",
      "id_str" : "2016166827917673740",
      "truncated" : false,
      "retweet_count" : "21",
      "id" : "2016166827917673740",
      "created_at" : "Tue Jan 27 15:10:05 +0000 2026",
      "favorited" : false,
      "full_text" : "How I structure a strength week for runners 🧵\n\n1/ Heavy strength goes on your HARD run day (same day, run first), not your easy day. Keep easy days easy.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2011465415787115366"
          ],
          "editableUntil" : "2026-01-14T16:48:21.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "trailtomwest",
            "screen_name" : "trailtomwest",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "2290118472",
            "id" : "2290118472"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "117"
      ],
      "favorite_count" : "314",
      "id_str" : "2011465415787115366",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "2011465415787115366",
      "created_at" : "Wed Jan 14 15:48:21 +0000 2026",
      "favorited" : false,
      "full_text" : "@trailtomwest one 12kg kettlebell is plenty to start. I use an adjustable 12-24kg one at home bc my apartment is tiny",
      "lang" : "en",
      "in_reply_to_status_id_str" : "2011392367203636310",
      "in_reply_to_status_id" : "2011392367203636310",
      "in_reply_to_user_id" : "2290118472",
      "in_reply_to_user_id_str" : "2290118472",
      "in_reply_to_screen_name" : "trailtomwest"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2011423049121164944"
          ],
          "editableUntil" : "2026-01-14T14:00:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "125"
      ],
      "favorite_count" : "451",
      "id_str" : "2011423049121164944",
      "truncated" : false,
      "retweet_count" : "21",
      "id" : "2011423049121164944",
      "created_at" : "Wed Jan 14 13:00:00 +0000 2026",
      "favorited" : false,
      "full_text" : "Strength for Runners is LIVE 💪 6 weeks, 3 short sessions a week, all you need is a kettlebell + a mini band. $39. link in bio",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2008177576376730264"
          ],
          "editableUntil" : "2026-01-05T15:03:39.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "122"
      ],
      "favorite_count" : "44",
      "id_str" : "2008177576376730264",
      "truncated" : false,
      "retweet_count" : "36",
      "id" : "2008177576376730264",
      "created_at" : "Mon Jan 05 14:03:39 +0000 2026",
      "favorited" : false,
      "full_text" : "2026 goals:\n1) Boston in April, just for fun (lol)\n2) launch the strength programme properly\n3) sleep 8 hrs (won't happen)",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "2002051841523599444"
          ],
          "editableUntil" : "2025-12-19T17:22:10.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "131"
      ],
      "favorite_count" : "130",
      "id_str" : "2002051841523599444",
      "truncated" : false,
      "retweet_count" : "50",
      "id" : "2002051841523599444",
      "created_at" : "Fri Dec 19 16:22:10 +0000 2025",
      "favorited" : false,
      "full_text" : "Studio over the holidays: Xmas Eve open till 10am, closed Xmas Day + New Year's Day. Sat long run still on for the 27th, dress warm",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1997774549025528023"
          ],
          "editableUntil" : "2025-12-07T22:05:44.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "CIMarathon",
            "screen_name" : "CIMarathon",
            "indices" : [
              "3",
              "14"
            ],
            "id_str" : "44120378",
            "id" : "44120378"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "137"
      ],
      "favorite_count" : "0",
      "id_str" : "1997774549025528023",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1997774549025528023",
      "created_at" : "Sun Dec 07 21:05:44 +0000 2025",
      "favorited" : false,
      "full_text" : "RT @CIMarathon: Congrats to all 9,000+ finishers of the 2025 California International Marathon! What a day on the streets of Sacramento 🏁",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1997754860962810498"
          ],
          "editableUntil" : "2025-12-07T20:47:30.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "93"
      ],
      "favorite_count" : "400",
      "id_str" : "1997754860962810498",
      "truncated" : false,
      "retweet_count" : "20",
      "id" : "1997754860962810498",
      "created_at" : "Sun Dec 07 19:47:30 +0000 2025",
      "favorited" : false,
      "full_text" : "CIM: 2:58:12. SUB THREE. I am crying in a Sacramento parking garage. thank you all so much 😭🙏",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1991343972152772984"
          ],
          "editableUntil" : "2025-11-20T04:12:55.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "55"
      ],
      "favorite_count" : "319",
      "id_str" : "1991343972152772984",
      "truncated" : false,
      "retweet_count" : "13",
      "id" : "1991343972152772984",
      "created_at" : "Thu Nov 20 03:12:55 +0000 2025",
      "favorited" : false,
      "full_text" : "Taper week 1. I have reorganised my spice drawer twice.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1988995275161578169"
          ],
          "editableUntil" : "2025-11-13T16:40:02.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "coloradorunnerco",
            "screen_name" : "coloradorunnerco",
            "indices" : [
              "3",
              "20"
            ],
            "id_str" : "1055332207",
            "id" : "1055332207"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "122"
      ],
      "favorite_count" : "0",
      "id_str" : "1988995275161578169",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1988995275161578169",
      "created_at" : "Thu Nov 13 15:40:02 +0000 2025",
      "favorited" : false,
      "full_text" : "RT @coloradorunnerco: Reminder: Thanksgiving morning Turkey Trot bib pickup is Wed 11/26 at the Wash Park boathouse, 3-7pm",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1985846590175650314"
          ],
          "editableUntil" : "2025-11-05T00:08:17.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "maddogmiles",
            "screen_name" : "maddogmiles",
            "indices" : [
              "0",
              "12"
            ],
            "id_str" : "1420558872210001920",
            "id" : "1420558872210001920"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "13",
        "99"
      ],
      "favorite_count" : "300",
      "id_str" : "1985846590175650314",
      "truncated" : false,
      "retweet_count" : "36",
      "id" : "1985846590175650314",
      "created_at" : "Tue Nov 04 23:08:17 +0000 2025",
      "favorited" : false,
      "full_text" : "@maddogmiles yes!! the plans are effort based so they work fine on a treadmill. set it to 1% and go",
      "lang" : "en",
      "in_reply_to_status_id_str" : "1985819147612863683",
      "in_reply_to_status_id" : "1985819147612863683",
      "in_reply_to_user_id" : "1420558872210001920",
      "in_reply_to_user_id_str" : "1420558872210001920",
      "in_reply_to_screen_name" : "maddogmiles"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1979963613247378384"
          ],
          "editableUntil" : "2025-10-19T18:31:26.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "80"
      ],
      "favorite_count" : "289",
      "id_str" : "1979963613247378384",
      "truncated" : false,
      "retweet_count" : "52",
      "id" : "1979963613247378384",
      "created_at" : "Sun Oct 19 17:31:26 +0000 2025",
      "favorited" : false,
      "full_text" : "20 miler done. 2:41 total, felt smooooth until mile 17 and then... less smooth 😂",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1973839199597885035"
          ],
          "editableUntil" : "2025-10-02T20:55:12.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "denverdan_runs",
            "screen_name" : "denverdan_runs",
            "indices" : [
              "0",
              "15"
            ],
            "id_str" : "3318820441",
            "id" : "3318820441"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "16",
        "99"
      ],
      "favorite_count" : "151",
      "id_str" : "1973839199597885035",
      "truncated" : false,
      "retweet_count" : "26",
      "id" : "1973839199597885035",
      "created_at" : "Thu Oct 02 19:55:12 +0000 2025",
      "favorited" : false,
      "full_text" : "@denverdan_runs Thursday evening class is 6pm, not 5:30! Mon + Wed are the 5:30 ones. see you there",
      "lang" : "en",
      "in_reply_to_status_id_str" : "1973762105042730951",
      "in_reply_to_status_id" : "1973762105042730951",
      "in_reply_to_user_id" : "3318820441",
      "in_reply_to_user_id_str" : "3318820441",
      "in_reply_to_screen_name" : "denverdan_runs"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1972847565469117208"
          ],
          "editableUntil" : "2025-09-30T03:14:48.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "121"
      ],
      "favorite_count" : "28",
      "id_str" : "1972847565469117208",
      "truncated" : false,
      "retweet_count" : "14",
      "id" : "1972847565469117208",
      "created_at" : "Tue Sep 30 02:14:48 +0000 2025",
      "favorited" : false,
      "full_text" : "for the record since ppl keep asking: my watch is a Garmin Forerunner 255. not fancy, battery lasts forever, does the job",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1967559147910566126"
          ],
          "editableUntil" : "2025-09-15T13:00:31.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "127"
      ],
      "favorite_count" : "117",
      "id_str" : "1967559147910566126",
      "truncated" : false,
      "retweet_count" : "40",
      "id" : "1967559147910566126",
      "created_at" : "Mon Sep 15 12:00:31 +0000 2025",
      "favorited" : false,
      "full_text" : "New 5K From Zero cohort starts Monday!! 8 weeks, 3 runs + 1 strength day a week, walk breaks totally allowed. $49 → link in bio",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1962915180970346154"
          ],
          "editableUntil" : "2025-09-02T17:27:03.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "jogbyjess",
            "screen_name" : "jogbyjess",
            "indices" : [
              "0",
              "10"
            ],
            "id_str" : "982311450120507392",
            "id" : "982311450120507392"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "11",
        "99"
      ],
      "favorite_count" : "126",
      "id_str" : "1962915180970346154",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1962915180970346154",
      "created_at" : "Tue Sep 02 16:27:03 +0000 2025",
      "favorited" : false,
      "full_text" : "@jogbyjess 3x12 each leg, slow on the way down. start w bodyweight honestly, add a kettlebell later",
      "lang" : "en",
      "in_reply_to_status_id_str" : "1962854435608528860",
      "in_reply_to_status_id" : "1962854435608528860",
      "in_reply_to_user_id" : "982311450120507392",
      "in_reply_to_user_id_str" : "982311450120507392",
      "in_reply_to_screen_name" : "jogbyjess"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1962881110637247290"
          ],
          "editableUntil" : "2025-09-02T15:11:40.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "150"
      ],
      "favorite_count" : "47",
      "id_str" : "1962881110637247290",
      "truncated" : false,
      "retweet_count" : "27",
      "id" : "1962881110637247290",
      "created_at" : "Tue Sep 02 14:11:40 +0000 2025",
      "favorited" : false,
      "full_text" : "Hot take: most runners don't need more miles, they need to stop skipping the boring strength stuff. Single leg RDLs. Calf raises. Every week. Forever.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1961056206714571892"
          ],
          "editableUntil" : "2025-08-28T14:20:09.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "117"
      ],
      "favorite_count" : "301",
      "id_str" : "1961056206714571892",
      "truncated" : false,
      "retweet_count" : "3",
      "id" : "1961056206714571892",
      "created_at" : "Thu Aug 28 13:20:09 +0000 2025",
      "favorited" : false,
      "full_text" : "whoever left ONE blue glove at the studio: it's in lost &amp; found. it has been in lost &amp; found since march. who are you",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1958334212470091327"
          ],
          "editableUntil" : "2025-08-21T02:03:55.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "coloradorunnerco",
            "screen_name" : "coloradorunnerco",
            "indices" : [
              "3",
              "20"
            ],
            "id_str" : "1055332207",
            "id" : "1055332207"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "131"
      ],
      "favorite_count" : "0",
      "id_str" : "1958334212470091327",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1958334212470091327",
      "created_at" : "Thu Aug 21 01:03:55 +0000 2025",
      "favorited" : false,
      "full_text" : "RT @coloradorunnerco: Registration for the Denver Turkey Trot opens Sept 1 🦃 5K + 10M options, proceeds to Food Bank of the Rockies",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1956743296187986778"
          ],
          "editableUntil" : "2025-08-16T16:42:11.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "95"
      ],
      "favorite_count" : "205",
      "id_str" : "1956743296187986778",
      "truncated" : false,
      "retweet_count" : "41",
      "id" : "1956743296187986778",
      "created_at" : "Sat Aug 16 15:42:11 +0000 2025",
      "favorited" : false,
      "full_text" : "18 miles this morning w the Saturday crew, last 4 @ marathon pace. CIM block is officially ON 🔥",
      "lang" : "en"
    }
  }
]