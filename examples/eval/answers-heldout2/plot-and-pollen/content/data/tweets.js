window.YTD.tweets.part0 = [
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2172327732043091263"
          ],
          "editableUntil": "2026-11-29T22:55:47.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "sacveggiegal",
            "screen_name": "sacveggiegal",
            "indices": [
              "0",
              "13"
            ],
            "id_str": "183148562744494274",
            "id": "183148562744494274"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "104"
      ],
      "favorite_count": "699",
      "id_str": "2172327732043091263",
      "truncated": false,
      "retweet_count": "65",
      "id": "2172327732043091263",
      "created_at": "Sun Nov 29 21:55:47 +0000 2026",
      "favorited": false,
      "full_text": "@sacveggiegal the forest green tote is sold out, sorry!! restock late January. natural is still in stock",
      "lang": "en",
      "in_reply_to_status_id_str": "2172305463246720054",
      "in_reply_to_status_id": "2172305463246720054",
      "in_reply_to_screen_name": "sacveggiegal",
      "in_reply_to_user_id": "183148562744494274",
      "in_reply_to_user_id_str": "183148562744494274"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2170562845840819026"
          ],
          "editableUntil": "2026-11-27T17:15:51.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/c4LnD2xZr7",
            "expanded_url": "https://plotandpollen.example/shop",
            "display_url": "plotandpollen.example/shop",
            "indices": [
              "89",
              "112"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "112"
      ],
      "favorite_count": "1900",
      "id_str": "2170562845840819026",
      "truncated": false,
      "retweet_count": "205",
      "id": "2170562845840819026",
      "created_at": "Fri Nov 27 16:15:51 +0000 2026",
      "favorited": false,
      "full_text": "the 2027 seed-planting calendar is down to $18 (from $24) for the holidays 🗓️ zones 8–10 https://t.co/c4LnD2xZr7",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2165997448654275032"
          ],
          "editableUntil": "2026-11-25T04:30:56.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "22",
            "indices": [
              "27",
              "30"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "126"
      ],
      "favorite_count": "1364",
      "id_str": "2165997448654275032",
      "truncated": false,
      "retweet_count": "44",
      "id": "2165997448654275032",
      "created_at": "Wed Nov 25 03:30:56 +0000 2026",
      "favorited": false,
      "full_text": "grateful for: Frijol, plot #22, Dana, everyone who listens to Dirt Talk, and Cherokee Purple tomatoes. in that order (maybe) 🧡",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2161089001878366297"
          ],
          "editableUntil": "2026-11-20T19:00:58.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "seedswap",
            "indices": [
              "129",
              "138"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "138"
      ],
      "favorite_count": "819",
      "id_str": "2161089001878366297",
      "truncated": false,
      "retweet_count": "244",
      "id": "2161089001878366297",
      "created_at": "Fri Nov 20 18:00:58 +0000 2026",
      "favorited": false,
      "full_text": "SEED SWAP IS BACK 🌻 Saturday, Feb 20, 2027, 10am–1pm, Oak Hollow Community Garden. same deal: free, bring seeds if you have them #seedswap",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2153042642504062034"
          ],
          "editableUntil": "2026-11-18T18:20:58.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Yx9dR2kPl0",
            "expanded_url": "https://plotandpollen.example/course",
            "display_url": "plotandpollen.example/course",
            "indices": [
              "119",
              "142"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "142"
      ],
      "favorite_count": "350",
      "id_str": "2153042642504062034",
      "truncated": false,
      "retweet_count": "61",
      "id": "2153042642504062034",
      "created_at": "Wed Nov 18 17:20:58 +0000 2026",
      "favorited": false,
      "full_text": "next Grow-Along cohort starts Jan 12! enrollment closes Jan 5. the Grow-Along tier is $149 right now instead of $199 🌱 https://t.co/Yx9dR2kPl0",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2148944104263320217"
          ],
          "editableUntil": "2026-11-14T23:03:39.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "96"
      ],
      "favorite_count": "10",
      "id_str": "2148944104263320217",
      "truncated": false,
      "retweet_count": "245",
      "id": "2148944104263320217",
      "created_at": "Sat Nov 14 22:03:39 +0000 2026",
      "favorited": false,
      "full_text": "13 years of growing food and I still planted my garlic too shallow this year. nobody's perfect 🧄",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2140374131588751052"
          ],
          "editableUntil": "2026-11-09T19:41:05.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "pnw_pea_patch",
            "screen_name": "pnw_pea_patch",
            "indices": [
              "0",
              "14"
            ],
            "id_str": "541965324107936380",
            "id": "541965324107936380"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "85"
      ],
      "favorite_count": "808",
      "id_str": "2140374131588751052",
      "truncated": false,
      "retweet_count": "172",
      "id": "2140374131588751052",
      "created_at": "Mon Nov 09 18:41:05 +0000 2026",
      "favorited": false,
      "full_text": "@pnw_pea_patch not this round, sorry!! Vancouver is on the wishlist for a future tour",
      "lang": "en",
      "in_reply_to_status_id_str": "2140305205803187897",
      "in_reply_to_status_id": "2140305205803187897",
      "in_reply_to_screen_name": "pnw_pea_patch",
      "in_reply_to_user_id": "541965324107936380",
      "in_reply_to_user_id_str": "541965324107936380"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2138453981143344844"
          ],
          "editableUntil": "2026-11-06T01:28:44.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Tr4nQ8vLs3",
            "expanded_url": "https://plotandpollen.example/tour",
            "display_url": "plotandpollen.example/tour",
            "indices": [
              "103",
              "126"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "126"
      ],
      "favorite_count": "1434",
      "id_str": "2138453981143344844",
      "truncated": false,
      "retweet_count": "186",
      "id": "2138453981143344844",
      "created_at": "Fri Nov 06 00:28:44 +0000 2026",
      "favorited": false,
      "full_text": "Seattle SOLD OUT in 2 days?? ok ok, we added a second Seattle workshop on Apr 18. same venue, same $35 https://t.co/Tr4nQ8vLs3",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2133425712657881941"
          ],
          "editableUntil": "2026-11-03T18:00:50.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Tr4nQ8vLs3",
            "expanded_url": "https://plotandpollen.example/tour",
            "display_url": "plotandpollen.example/tour",
            "indices": [
              "183",
              "206"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "206"
      ],
      "favorite_count": "1064",
      "id_str": "2133425712657881941",
      "truncated": false,
      "retweet_count": "99",
      "id": "2133425712657881941",
      "created_at": "Tue Nov 03 17:00:50 +0000 2026",
      "favorited": false,
      "full_text": "🌼 ANNOUNCING the Dig In Tour! hands-on workshops, spring 2027:\nPortland Apr 10\nSeattle Apr 17\nDenver May 8\nAustin May 22\nSacramento Jun 5 (home show at Riverbend Hall!)\ntickets $35 👉 https://t.co/Tr4nQ8vLs3",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2128172151941489178"
          ],
          "editableUntil": "2026-11-01T01:17:33.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "22",
            "indices": [
              "71",
              "74"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "76"
      ],
      "favorite_count": "121",
      "id_str": "2128172151941489178",
      "truncated": false,
      "retweet_count": "14",
      "id": "2128172151941489178",
      "created_at": "Sun Nov 01 00:17:33 +0000 2026",
      "favorited": false,
      "full_text": "happy halloween from my scariest crop: the 40 lb pumpkin that ate plot #22 🎃",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2123969530151333552"
          ],
          "editableUntil": "2026-10-20T23:50:52.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "92"
      ],
      "favorite_count": "931",
      "id_str": "2123969530151333552",
      "truncated": false,
      "retweet_count": "102",
      "id": "2123969530151333552",
      "created_at": "Tue Oct 20 22:50:52 +0000 2026",
      "favorited": false,
      "full_text": "garlic is in for 2026: Music, Inchelium Red, Chesnok Red. Frijol supervised from the shade 🧄",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2116305345504783994"
          ],
          "editableUntil": "2026-10-14T19:02:40.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Bk7pHq2mWs",
            "expanded_url": "https://plotandpollen.example/book",
            "display_url": "plotandpollen.example/book",
            "indices": [
              "144",
              "167"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "167"
      ],
      "favorite_count": "802",
      "id_str": "2116305345504783994",
      "truncated": false,
      "retweet_count": "122",
      "id": "2116305345504783994",
      "created_at": "Wed Oct 14 18:02:40 +0000 2026",
      "favorited": false,
      "full_text": "COVER REVEAL 📚✨ The Small-Plot Harvest, out March 16, 2027. preorder before release day and you get a bonus printable succession-planting chart https://t.co/Bk7pHq2mWs",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2109781879165217848"
          ],
          "editableUntil": "2026-10-06T20:34:23.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "tinyyardtom",
            "screen_name": "tinyyardtom",
            "indices": [
              "0",
              "12"
            ],
            "id_str": "889983818826827887",
            "id": "889983818826827887"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "123"
      ],
      "favorite_count": "915",
      "id_str": "2109781879165217848",
      "truncated": false,
      "retweet_count": "272",
      "id": "2109781879165217848",
      "created_at": "Tue Oct 06 19:34:23 +0000 2026",
      "favorited": false,
      "full_text": "@tinyyardtom send it to the mailbag! mailbag@plotandpollen.example, we answer listener questions on Dirt Talk every episode",
      "lang": "en",
      "in_reply_to_status_id_str": "2109734482769419181",
      "in_reply_to_status_id": "2109734482769419181",
      "in_reply_to_screen_name": "tinyyardtom",
      "in_reply_to_user_id": "889983818826827887",
      "in_reply_to_user_id_str": "889983818826827887"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2107277296680880740"
          ],
          "editableUntil": "2026-09-22T15:00:41.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "134"
      ],
      "favorite_count": "1072",
      "id_str": "2107277296680880740",
      "truncated": false,
      "retweet_count": "265",
      "id": "2107277296680880740",
      "created_at": "Tue Sep 22 14:00:41 +0000 2026",
      "favorited": false,
      "full_text": "Dirt Talk Ep 2: compost myths. Dana explains why my three-bay hot compost setup is overkill for most people and I take it personally 😂",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2105457546924878802"
          ],
          "editableUntil": "2026-09-16T02:45:44.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "82"
      ],
      "favorite_count": "2166",
      "id_str": "2105457546924878802",
      "truncated": false,
      "retweet_count": "152",
      "id": "2105457546924878802",
      "created_at": "Wed Sep 16 01:45:44 +0000 2026",
      "favorited": false,
      "full_text": "Grow-Along cohort day 1!! 86 of you planning your first beds with me. let's gooo 🌱",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2097628802211162661"
          ],
          "editableUntil": "2026-09-08T15:00:01.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Pd7xWq1eZk",
            "expanded_url": "https://plotandpollen.example/podcast",
            "display_url": "plotandpollen.example/podcast",
            "indices": [
              "133",
              "156"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "156"
      ],
      "favorite_count": "1484",
      "id_str": "2097628802211162661",
      "truncated": false,
      "retweet_count": "75",
      "id": "2097628802211162661",
      "created_at": "Tue Sep 08 14:00:01 +0000 2026",
      "favorited": false,
      "full_text": "Dirt Talk Ep 1 is LIVE 🎙️🌱 we talk about why your soil is probably fine. new episodes every other Tuesday, wherever you get podcasts https://t.co/Pd7xWq1eZk",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2091870678732932376"
          ],
          "editableUntil": "2026-08-25T17:15:47.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "147"
      ],
      "favorite_count": "664",
      "id_str": "2091870678732932376",
      "truncated": false,
      "retweet_count": "264",
      "id": "2091870678732932376",
      "created_at": "Tue Aug 25 16:15:47 +0000 2026",
      "favorited": false,
      "full_text": "🎙️ I'm starting a podcast!! Dirt Talk drops Sept 8, co-hosted with my friend Dana Whitlock (soil scientist, knows everything, very patient with me)",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2086559638532188542"
          ],
          "editableUntil": "2026-08-05T18:30:19.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Yx9dR2kPl0",
            "expanded_url": "https://plotandpollen.example/course",
            "display_url": "plotandpollen.example/course",
            "indices": [
              "129",
              "152"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "152"
      ],
      "favorite_count": "421",
      "id_str": "2086559638532188542",
      "truncated": false,
      "retweet_count": "175",
      "id": "2086559638532188542",
      "created_at": "Wed Aug 05 17:30:19 +0000 2026",
      "favorited": false,
      "full_text": "fall Grow-Along cohort of Grow Your First Veg Bed starts Sept 15! 4 live calls, I review your bed plan, plus a private community https://t.co/Yx9dR2kPl0",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2084261544427642848"
          ],
          "editableUntil": "2026-07-23T05:40:54.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "91"
      ],
      "favorite_count": "1970",
      "id_str": "2084261544427642848",
      "truncated": false,
      "retweet_count": "247",
      "id": "2084261544427642848",
      "created_at": "Thu Jul 23 04:40:54 +0000 2026",
      "favorited": false,
      "full_text": "zucchini season means leaving zucchini on the neighbors' porches at night like a criminal 🥒",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2079064283437909053"
          ],
          "editableUntil": "2026-07-09T01:05:38.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "79"
      ],
      "favorite_count": "506",
      "id_str": "2079064283437909053",
      "truncated": false,
      "retweet_count": "59",
      "id": "2079064283437909053",
      "created_at": "Thu Jul 09 00:05:38 +0000 2026",
      "favorited": false,
      "full_text": "it's 108 out. I watered at 5am and again at 7pm. the peppers are fine, I am not",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2073793508128617365"
          ],
          "editableUntil": "2026-06-25T04:20:39.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "85"
      ],
      "favorite_count": "1036",
      "id_str": "2073793508128617365",
      "truncated": false,
      "retweet_count": "177",
      "id": "2073793508128617365",
      "created_at": "Thu Jun 25 03:20:39 +0000 2026",
      "favorited": false,
      "full_text": "thank you to my editor Priya for putting up with 47 emails about tomato cage photos 🙏",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2071455486761067083"
          ],
          "editableUntil": "2026-06-10T17:00:23.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Bk7pHq2mWs",
            "expanded_url": "https://plotandpollen.example/book",
            "display_url": "plotandpollen.example/book",
            "indices": [
              "127",
              "150"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "150"
      ],
      "favorite_count": "291",
      "id_str": "2071455486761067083",
      "truncated": false,
      "retweet_count": "106",
      "id": "2071455486761067083",
      "created_at": "Wed Jun 10 16:00:23 +0000 2026",
      "favorited": false,
      "full_text": "cover sneak peek coming soon but here's the real title: The Small-Plot Harvest 🌱 out March 16, 2027, hardcover $28. preorder 👉 https://t.co/Bk7pHq2mWs",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2070225793569062827"
          ],
          "editableUntil": "2026-05-30T18:04:21.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "GreenlanePress",
            "screen_name": "GreenlanePress",
            "indices": [
              "3",
              "18"
            ],
            "id_str": "268951391792544",
            "id": "268951391792544"
          },
          {
            "name": "plotandpollen",
            "screen_name": "plotandpollen",
            "indices": [
              "79",
              "93"
            ],
            "id_str": "174396595537615894",
            "id": "174396595537615894"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "114"
      ],
      "favorite_count": "0",
      "id_str": "2070225793569062827",
      "truncated": false,
      "retweet_count": "51",
      "id": "2070225793569062827",
      "created_at": "Sat May 30 17:04:21 +0000 2026",
      "favorited": false,
      "full_text": "RT @GreenlanePress: Spring catalog is out! Including THE SMALL-PLOT HARVEST by @plotandpollen, coming March 2027 🌱",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2068752232189869218"
          ],
          "editableUntil": "2026-05-17T02:37:12.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "92"
      ],
      "favorite_count": "667",
      "id_str": "2068752232189869218",
      "truncated": false,
      "retweet_count": "56",
      "id": "2068752232189869218",
      "created_at": "Sun May 17 01:37:12 +0000 2026",
      "favorited": false,
      "full_text": "hi this is Frijol's mom. he has been banned from the strawberry bed effective immediately 🍓🚫",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2063783419518729112"
          ],
          "editableUntil": "2026-05-02T19:58:25.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "110"
      ],
      "favorite_count": "1643",
      "id_str": "2063783419518729112",
      "truncated": false,
      "retweet_count": "31",
      "id": "2063783419518729112",
      "created_at": "Sat May 02 18:58:25 +0000 2026",
      "favorited": false,
      "full_text": "my drip irrigation timer is the most underrated thing I own. $40 and it saved my tomatoes during the heat wave",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2058446249429390188"
          ],
          "editableUntil": "2026-04-18T16:48:57.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "newbie_grows_sac",
            "screen_name": "newbie_grows_sac",
            "indices": [
              "0",
              "17"
            ],
            "id_str": "919885077594246271",
            "id": "919885077594246271"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "123"
      ],
      "favorite_count": "2293",
      "id_str": "2058446249429390188",
      "truncated": false,
      "retweet_count": "200",
      "id": "2058446249429390188",
      "created_at": "Sat Apr 18 15:48:57 +0000 2026",
      "favorited": false,
      "full_text": "@newbie_grows_sac the course has a whole module on that! short version: 6-8 inches of compost on top, don't dig, water deep",
      "lang": "en",
      "in_reply_to_status_id_str": "2058389099612233545",
      "in_reply_to_status_id": "2058389099612233545",
      "in_reply_to_screen_name": "newbie_grows_sac",
      "in_reply_to_user_id": "919885077594246271",
      "in_reply_to_user_id_str": "919885077594246271"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2050420907552952376"
          ],
          "editableUntil": "2026-04-04T21:13:44.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "112"
      ],
      "favorite_count": "224",
      "id_str": "2050420907552952376",
      "truncated": false,
      "retweet_count": "233",
      "id": "2050420907552952376",
      "created_at": "Sat Apr 04 20:13:44 +0000 2026",
      "favorited": false,
      "full_text": "gardening hot take: raised beds are not required. I grew straight in the ground my first 5 years and it was fine",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2044777773632792454"
          ],
          "editableUntil": "2026-03-22T00:16:23.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "108"
      ],
      "favorite_count": "1308",
      "id_str": "2044777773632792454",
      "truncated": false,
      "retweet_count": "64",
      "id": "2044777773632792454",
      "created_at": "Sat Mar 21 23:16:23 +0000 2026",
      "favorited": false,
      "full_text": "first day of spring = tomato transplant day in my world. Cherokee Purple x4, Sungold x2, and NO Brandywine 😌",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2038676625471306895"
          ],
          "editableUntil": "2026-03-07T18:32:18.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "127"
      ],
      "favorite_count": "1719",
      "id_str": "2038676625471306895",
      "truncated": false,
      "retweet_count": "273",
      "id": "2038676625471306895",
      "created_at": "Sat Mar 07 17:32:18 +0000 2026",
      "favorited": false,
      "full_text": "book update 📚 it's moving from October 2026 to March 16, 2027. printer delays, nothing dramatic. more time to make it beautiful",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2036364491469960502"
          ],
          "editableUntil": "2026-02-22T20:25:31.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "seedswap",
            "indices": [
              "158",
              "167"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "167"
      ],
      "favorite_count": "749",
      "id_str": "2036364491469960502",
      "truncated": false,
      "retweet_count": "134",
      "id": "2036364491469960502",
      "created_at": "Sun Feb 22 19:25:31 +0000 2026",
      "favorited": false,
      "full_text": "yesterday's seed swap: 140 of you showed up 😭 we traded something like 3,000 packets. thank you Oak Hollow for hosting, we're 100% doing this again next year #seedswap",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2030058137410611464"
          ],
          "editableUntil": "2026-02-18T04:50:11.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "105"
      ],
      "favorite_count": "958",
      "id_str": "2030058137410611464",
      "truncated": false,
      "retweet_count": "6",
      "id": "2030058137410611464",
      "created_at": "Wed Feb 18 03:50:11 +0000 2026",
      "favorited": false,
      "full_text": "seed swap is THIS Saturday!! forecast says sunny. I hand-labeled 200 seed envelopes and my hand is broken",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2026968858509585227"
          ],
          "editableUntil": "2026-01-24T21:09:17.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "bayareabotanica",
            "screen_name": "bayareabotanica",
            "indices": [
              "0",
              "16"
            ],
            "id_str": "413634990215986250",
            "id": "413634990215986250"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "119"
      ],
      "favorite_count": "1561",
      "id_str": "2026968858509585227",
      "truncated": false,
      "retweet_count": "118",
      "id": "2026968858509585227",
      "created_at": "Sat Jan 24 20:09:17 +0000 2026",
      "favorited": false,
      "full_text": "@bayareabotanica no need to bring seeds! plenty to share. and yes dogs are welcome, Frijol will be there in his bandana",
      "lang": "en",
      "in_reply_to_status_id_str": "2026956179845307022",
      "in_reply_to_status_id": "2026956179845307022",
      "in_reply_to_screen_name": "bayareabotanica",
      "in_reply_to_user_id": "413634990215986250",
      "in_reply_to_user_id_str": "413634990215986250"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2022228200953823505"
          ],
          "editableUntil": "2026-01-10T19:45:17.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "seedswap",
            "indices": [
              "137",
              "146"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "146"
      ],
      "favorite_count": "1766",
      "id_str": "2022228200953823505",
      "truncated": false,
      "retweet_count": "281",
      "id": "2022228200953823505",
      "created_at": "Sat Jan 10 18:45:17 +0000 2026",
      "favorited": false,
      "full_text": "SAVE THE DATE 🌻 Sacramento Seed Swap, Saturday Feb 21, 10am–1pm at Oak Hollow Community Garden. free! bring seeds or just bring yourself #seedswap",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2019994880120803256"
          ],
          "editableUntil": "2025-12-31T03:18:05.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "yearinreview",
            "indices": [
              "140",
              "153"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "153"
      ],
      "favorite_count": "1648",
      "id_str": "2019994880120803256",
      "truncated": false,
      "retweet_count": "281",
      "id": "2019994880120803256",
      "created_at": "Wed Dec 31 02:18:05 +0000 2025",
      "favorited": false,
      "full_text": "2025 in the garden: 412 lbs of produce from one community plot + 3 backyard beds. not bad for a year that started with aphids on everything #yearinreview",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2014948960083891358"
          ],
          "editableUntil": "2025-12-14T00:30:47.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "134"
      ],
      "favorite_count": "1604",
      "id_str": "2014948960083891358",
      "truncated": false,
      "retweet_count": "254",
      "id": "2014948960083891358",
      "created_at": "Sat Dec 13 23:30:47 +0000 2025",
      "favorited": false,
      "full_text": "winter plot check: kale, chard, 3 kinds of lettuce, garlic, favas. Frijol is mad it's cold. 52°F is cold to him, he's a Sacramento dog",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2010365019265279259"
          ],
          "editableUntil": "2025-11-28T18:00:03.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/c4LnD2xZr7",
            "expanded_url": "https://plotandpollen.example/shop",
            "display_url": "plotandpollen.example/shop",
            "indices": [
              "98",
              "121"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "121"
      ],
      "favorite_count": "1180",
      "id_str": "2010365019265279259",
      "truncated": false,
      "retweet_count": "66",
      "id": "2010365019265279259",
      "created_at": "Fri Nov 28 17:00:03 +0000 2025",
      "favorited": false,
      "full_text": "the 2026 seed-planting calendar is back in the shop. zones 8–10, every sowing date I actually use https://t.co/c4LnD2xZr7",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "2002445392222531104"
          ],
          "editableUntil": "2025-11-15T19:10:22.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "123"
      ],
      "favorite_count": "482",
      "id_str": "2002445392222531104",
      "truncated": false,
      "retweet_count": "252",
      "id": "2002445392222531104",
      "created_at": "Sat Nov 15 18:10:22 +0000 2025",
      "favorited": false,
      "full_text": "ok I can finally say it: I'm writing a book!! 📚🌱 it's coming out October 2026 with Greenlane Press. title is still a secret",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1995942718055839290"
          ],
          "editableUntil": "2025-11-02T04:03:56.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "82"
      ],
      "favorite_count": "95",
      "id_str": "1995942718055839290",
      "truncated": false,
      "retweet_count": "236",
      "id": "1995942718055839290",
      "created_at": "Sun Nov 02 03:03:56 +0000 2025",
      "favorited": false,
      "full_text": "I have some news I can't share yet but let's just say I've been writing. a lot. 📝👀",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1991817172993418012"
          ],
          "editableUntil": "2025-10-26T01:40:43.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "99"
      ],
      "favorite_count": "1168",
      "id_str": "1991817172993418012",
      "truncated": false,
      "retweet_count": "197",
      "id": "1991817172993418012",
      "created_at": "Sun Oct 26 00:40:43 +0000 2025",
      "favorited": false,
      "full_text": "my sister's cat Miso came to visit and immediately sat in the lettuce. Frijol is filing a complaint",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1986803196107651447"
          ],
          "editableUntil": "2025-10-18T22:58:04.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "76"
      ],
      "favorite_count": "1271",
      "id_str": "1986803196107651447",
      "truncated": false,
      "retweet_count": "295",
      "id": "1986803196107651447",
      "created_at": "Sat Oct 18 21:58:04 +0000 2025",
      "favorited": false,
      "full_text": "garlic is IN. 4 varieties this year, Music is still the champ for our heat 🧄",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1979217499153822060"
          ],
          "editableUntil": "2025-10-04T17:26:51.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "sacveggiegal",
            "screen_name": "sacveggiegal",
            "indices": [
              "0",
              "13"
            ],
            "id_str": "107908836521542142",
            "id": "107908836521542142"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "116"
      ],
      "favorite_count": "1108",
      "id_str": "1979217499153822060",
      "truncated": false,
      "retweet_count": "242",
      "id": "1979217499153822060",
      "created_at": "Sat Oct 04 16:26:51 +0000 2025",
      "favorited": false,
      "full_text": "@sacveggiegal yes!! a hot pile that holds 131°F+ for a few days will kill most weed seeds. turn it, check it, repeat",
      "lang": "en",
      "in_reply_to_status_id_str": "1979123029081753639",
      "in_reply_to_status_id": "1979123029081753639",
      "in_reply_to_screen_name": "sacveggiegal",
      "in_reply_to_user_id": "107908836521542142",
      "in_reply_to_user_id_str": "107908836521542142"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1977598137140548098"
          ],
          "editableUntil": "2025-09-21T03:05:44.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "99"
      ],
      "favorite_count": "2037",
      "id_str": "1977598137140548098",
      "truncated": false,
      "retweet_count": "296",
      "id": "1977598137140548098",
      "created_at": "Sun Sep 21 02:05:44 +0000 2025",
      "favorited": false,
      "full_text": "Frijol ate an entire Sungold straight off the vine today and looked me dead in the eye. no remorse.",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1971244531916523399"
          ],
          "editableUntil": "2025-09-06T18:37:48.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "zone9b",
            "indices": [
              "98",
              "105"
            ]
          },
          {
            "text": "fallgarden",
            "indices": [
              "106",
              "117"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "117"
      ],
      "favorite_count": "1288",
      "id_str": "1971244531916523399",
      "truncated": false,
      "retweet_count": "174",
      "id": "1971244531916523399",
      "created_at": "Sat Sep 06 17:37:48 +0000 2025",
      "favorited": false,
      "full_text": "fall planting in Sacramento is the best-kept secret. brassicas now, garlic mid-Oct, favas in Nov. #zone9b #fallgarden",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1965083172830722573"
          ],
          "editableUntil": "2025-08-23T20:12:59.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "121"
      ],
      "favorite_count": "163",
      "id_str": "1965083172830722573",
      "truncated": false,
      "retweet_count": "39",
      "id": "1965083172830722573",
      "created_at": "Sat Aug 23 19:12:59 +0000 2025",
      "favorited": false,
      "full_text": "6 years since I started the Plot &amp; Pollen account in 2019 with a blurry photo of radishes. thank you for being here 🥹",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1960284851977915019"
          ],
          "editableUntil": "2025-08-09T16:30:26.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/nW4kTe0pQa",
            "expanded_url": "https://plotandpollen.example/newsletter",
            "display_url": "plotandpollen.example/newsletter",
            "indices": [
              "113",
              "136"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "136"
      ],
      "favorite_count": "1404",
      "id_str": "1960284851977915019",
      "truncated": false,
      "retweet_count": "77",
      "id": "1960284851977915019",
      "created_at": "Sat Aug 09 15:30:26 +0000 2025",
      "favorited": false,
      "full_text": "newsletter nerds: The Compost Heap goes out every Sunday morning. this week: saving seed from your best tomatoes https://t.co/nW4kTe0pQa",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1952465134693094839"
          ],
          "editableUntil": "2025-07-27T00:44:38.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "tomatotasting",
            "indices": [
              "122",
              "136"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "136"
      ],
      "favorite_count": "486",
      "id_str": "1952465134693094839",
      "truncated": false,
      "retweet_count": "262",
      "id": "1952465134693094839",
      "created_at": "Sat Jul 26 23:44:38 +0000 2025",
      "favorited": false,
      "full_text": "tomato tasting at the plot today: Cherokee Purple won (again), Sungold 2nd, Black Krim 3rd. sample size: me + 9 neighbors #tomatotasting",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1950805797168765055"
          ],
          "editableUntil": "2025-07-13T02:21:31.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "110"
      ],
      "favorite_count": "1841",
      "id_str": "1950805797168765055",
      "truncated": false,
      "retweet_count": "147",
      "id": "1950805797168765055",
      "created_at": "Sun Jul 13 01:21:31 +0000 2025",
      "favorited": false,
      "full_text": "Brandywine update: split. again. that's three years. it's over between us. Cherokee Purple never betrays me 🍅💔",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1946712042567423416"
          ],
          "editableUntil": "2025-06-28T21:02:50.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "corgi_garden_club",
            "screen_name": "corgi_garden_club",
            "indices": [
              "0",
              "18"
            ],
            "id_str": "281424123452246816",
            "id": "281424123452246816"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "84"
      ],
      "favorite_count": "338",
      "id_str": "1946712042567423416",
      "truncated": false,
      "retweet_count": "294",
      "id": "1946712042567423416",
      "created_at": "Sat Jun 28 20:02:50 +0000 2025",
      "favorited": false,
      "full_text": "@corgi_garden_club your corgi supervising the zucchini is the content I'm here for 😂",
      "lang": "en",
      "in_reply_to_status_id_str": "1946637129185666403",
      "in_reply_to_status_id": "1946637129185666403",
      "in_reply_to_screen_name": "corgi_garden_club",
      "in_reply_to_user_id": "281424123452246816",
      "in_reply_to_user_id_str": "281424123452246816"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1939416062121026590"
          ],
          "editableUntil": "2025-06-14T23:15:59.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "138"
      ],
      "favorite_count": "1230",
      "id_str": "1939416062121026590",
      "truncated": false,
      "retweet_count": "127",
      "id": "1939416062121026590",
      "created_at": "Sat Jun 14 22:15:59 +0000 2025",
      "favorited": false,
      "full_text": "it's 104°F in Sacramento today. shade cloth is up, drip runs at 5am, and I'm hiding inside with Frijol. stay hydrated, plants AND people 🥵",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1935159216538828782"
          ],
          "editableUntil": "2025-05-30T17:48:27.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "99"
      ],
      "favorite_count": "1910",
      "id_str": "1935159216538828782",
      "truncated": false,
      "retweet_count": "299",
      "id": "1935159216538828782",
      "created_at": "Fri May 30 16:48:27 +0000 2025",
      "favorited": false,
      "full_text": "trying Brandywine again bc my abuela loved them. third year in a row. if it splits again I'm done 😤",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1931329628616509654"
          ],
          "editableUntil": "2025-05-18T01:33:03.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "83"
      ],
      "favorite_count": "2036",
      "id_str": "1931329628616509654",
      "truncated": false,
      "retweet_count": "272",
      "id": "1931329628616509654",
      "created_at": "Sun May 18 00:33:03 +0000 2025",
      "favorited": false,
      "full_text": "first Sungold of the year!! eaten immediately, standing in the path, no regrets ☀️🍅",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1928474517913591589"
          ],
          "editableUntil": "2025-05-02T16:05:06.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "135"
      ],
      "favorite_count": "260",
      "id_str": "1928474517913591589",
      "truncated": false,
      "retweet_count": "288",
      "id": "1928474517913591589",
      "created_at": "Fri May 02 15:05:06 +0000 2025",
      "favorited": false,
      "full_text": "PSA: you do not need a rototiller. I bought one in 2016, used it twice, sold it. never buying one again. broadfork + mulch = happy soil",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1921060394221331452"
          ],
          "editableUntil": "2025-04-19T22:20:37.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "gardentools",
            "indices": [
              "115",
              "127"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "127"
      ],
      "favorite_count": "772",
      "id_str": "1921060394221331452",
      "truncated": false,
      "retweet_count": "190",
      "id": "1921060394221331452",
      "created_at": "Sat Apr 19 21:20:37 +0000 2025",
      "favorited": false,
      "full_text": "the one tool I'd grab in a fire: my hori hori. weeding, dividing, planting bulbs, opening bags of soil, all of it. #gardentools",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1914305573678051475"
          ],
          "editableUntil": "2025-04-05T19:47:36.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "22",
            "indices": [
              "57",
              "60"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "117"
      ],
      "favorite_count": "743",
      "id_str": "1914305573678051475",
      "truncated": false,
      "retweet_count": "52",
      "id": "1914305573678051475",
      "created_at": "Sat Apr 05 18:47:36 +0000 2025",
      "favorited": false,
      "full_text": "spring at Oak Hollow Community Garden is unreal rn. plot #22 is fully planted and the fava beans are taller than me 💚",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1908259226298500699"
          ],
          "editableUntil": "2025-03-23T03:11:02.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "dirtunderneath_",
            "screen_name": "dirtunderneath_",
            "indices": [
              "0",
              "16"
            ],
            "id_str": "333896775512203181",
            "id": "333896775512203181"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "105"
      ],
      "favorite_count": "1719",
      "id_str": "1908259226298500699",
      "truncated": false,
      "retweet_count": "73",
      "id": "1908259226298500699",
      "created_at": "Sun Mar 23 02:11:02 +0000 2025",
      "favorited": false,
      "full_text": "@dirtunderneath_ ha, my neighbor swears by bokashi but I just don't have the patience for the bucket life",
      "lang": "en",
      "in_reply_to_status_id_str": "1908241649697477231",
      "in_reply_to_status_id": "1908241649697477231",
      "in_reply_to_screen_name": "dirtunderneath_",
      "in_reply_to_user_id": "333896775512203181",
      "in_reply_to_user_id_str": "333896775512203181"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1899526831075897117"
          ],
          "editableUntil": "2025-03-08T19:00:36.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": [
          {
            "url": "https://t.co/Vq3mLp8Rz1",
            "expanded_url": "https://plotandpollen.example/course",
            "display_url": "plotandpollen.example/course",
            "indices": [
              "123",
              "146"
            ]
          }
        ]
      },
      "display_text_range": [
        "0",
        "146"
      ],
      "favorite_count": "206",
      "id_str": "1899526831075897117",
      "truncated": false,
      "retweet_count": "113",
      "id": "1899526831075897117",
      "created_at": "Sat Mar 08 18:00:36 +0000 2025",
      "favorited": false,
      "full_text": "the Grow Your First Veg Bed course is LIVE 🎉 6 modules, filmed right here at my plot, for folks who've never grown a thing https://t.co/Vq3mLp8Rz1",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1894953849562440744"
          ],
          "editableUntil": "2025-02-26T21:30:07.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "composting",
            "indices": [
              "185",
              "196"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "196"
      ],
      "favorite_count": "2390",
      "id_str": "1894953849562440744",
      "truncated": false,
      "retweet_count": "31",
      "id": "1894953849562440744",
      "created_at": "Wed Feb 26 20:30:07 +0000 2025",
      "favorited": false,
      "full_text": "my compost setup since people keep asking: three-bay pallet bins, hot composting, turned about once a week. tried a tumbler back in 2021 and it never got hot enough. pallets forever ♻️ #composting",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1891943087834076107"
          ],
          "editableUntil": "2025-02-12T01:02:05.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "101"
      ],
      "favorite_count": "245",
      "id_str": "1891943087834076107",
      "truncated": false,
      "retweet_count": "289",
      "id": "1891943087834076107",
      "created_at": "Wed Feb 12 00:02:05 +0000 2025",
      "favorited": false,
      "full_text": "Frijol (4yo heeler mix, self-appointed garden supervisor) has discovered the carrot bed. send help 🐕🥕",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1887119357688095997"
          ],
          "editableUntil": "2025-01-29T16:55:37.000Z",
          "editsRemaining": "5",
          "isEditEligible": false
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [],
        "symbols": [],
        "user_mentions": [
          {
            "name": "tomatotammy",
            "screen_name": "tomatotammy",
            "indices": [
              "0",
              "12"
            ],
            "id_str": "99090414812738008",
            "id": "99090414812738008"
          }
        ],
        "urls": []
      },
      "display_text_range": [
        "0",
        "101"
      ],
      "favorite_count": "1779",
      "id_str": "1887119357688095997",
      "truncated": false,
      "retweet_count": "214",
      "id": "1887119357688095997",
      "created_at": "Wed Jan 29 15:55:37 +0000 2025",
      "favorited": false,
      "full_text": "@tomatotammy honestly? start them 6-8 weeks before your last frost. here in Sac that's mid-Jan for me",
      "lang": "en",
      "in_reply_to_status_id_str": "1887084487275972974",
      "in_reply_to_status_id": "1887084487275972974",
      "in_reply_to_screen_name": "tomatotammy",
      "in_reply_to_user_id": "99090414812738008",
      "in_reply_to_user_id_str": "99090414812738008"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1884185529303782920"
          ],
          "editableUntil": "2025-01-18T03:40:04.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "1",
            "indices": [
              "119",
              "121"
            ]
          },
          {
            "text": "seedstarting",
            "indices": [
              "141",
              "154"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "154"
      ],
      "favorite_count": "388",
      "id_str": "1884185529303782920",
      "truncated": false,
      "retweet_count": "187",
      "id": "1884185529303782920",
      "created_at": "Sat Jan 18 02:40:04 +0000 2025",
      "favorited": false,
      "full_text": "seeds started under the shop lights: 6 kinds of tomato, 3 basil, and way too many peppers. Cherokee Purple is still my #1 tomato, fight me 🍅 #seedstarting",
      "lang": "en"
    }
  },
  {
    "tweet": {
      "edit_info": {
        "initial": {
          "editTweetIds": [
            "1878358729860042212"
          ],
          "editableUntil": "2025-01-03T18:14:20.000Z",
          "editsRemaining": "5",
          "isEditEligible": true
        }
      },
      "retweeted": false,
      "source": "<a href=\"http://twitter.com/download/iphone\" rel=\"nofollow\">Twitter for iPhone</a>",
      "entities": {
        "hashtags": [
          {
            "text": "zone9b",
            "indices": [
              "175",
              "182"
            ]
          },
          {
            "text": "PlotAndPollen",
            "indices": [
              "183",
              "197"
            ]
          }
        ],
        "symbols": [],
        "user_mentions": [],
        "urls": []
      },
      "display_text_range": [
        "0",
        "197"
      ],
      "favorite_count": "1620",
      "id_str": "1878358729860042212",
      "truncated": false,
      "retweet_count": "24",
      "id": "1878358729860042212",
      "created_at": "Fri Jan 03 17:14:20 +0000 2025",
      "favorited": false,
      "full_text": "new year, new beds 🌱 kicking off my 12th season of growing food here in Sacramento. been at this since 2014 and I still get giddy ordering seeds. what are you planting first? #zone9b #PlotAndPollen",
      "lang": "en"
    }
  }
]