Feature: Images
  People keep images in gpix: the sample photos that ship with it, their own
  uploads and the results of processing. They list them, upload new ones,
  run filters on them and delete what they uploaded; the samples stay.

  Background:
    Given the gpix server is running

  Scenario: the sample photos are listed with stable ids
    When I GET "/v1/images?source=IMAGE_SOURCE_SAMPLE&page_size=50"
    Then the response status is 200
    And the listed images are exactly "sample-astronaut, sample-chelsea, sample-coffee, sample-ladybird, sample-rocket, sample-storm"
    And every listed image has source "IMAGE_SOURCE_SAMPLE"

  Scenario: a sample is described by its metadata
    When I GET "/v1/images/sample-chelsea"
    Then the response status is 200
    And the JSON field "name" is "chelsea.png"
    And the JSON field "format" is "IMAGE_FORMAT_PNG"
    And the JSON field "width" is 451
    And the JSON field "height" is 300
    And the JSON field "contentUrl" is "/v1/images/sample-chelsea/content"

  Scenario Outline: uploading a photo over HTTP/<http> and seeing it listed
    Given I use HTTP/<http>
    When I upload the sample file "<file>" as "<type>"
    Then the response status is 201
    And the response header "location" points at the uploaded image
    And the JSON field "image.source" is "IMAGE_SOURCE_UPLOAD"
    And the JSON field "image.width" is <width>
    When I list the uploaded images
    Then the uploaded image is listed
    And the uploaded image's content is the bytes of "<file>"

    Examples:
      | http | file        | type       | width |
      | 1.1  | chelsea.png | image/png  | 451   |
      | 2    | rocket.jpg  | image/jpeg | 640   |

  Scenario: processing a photo to PNG
    When I process the sample file "chelsea.png" with filters "grayscale,blur" and "blur.sigma=2" as "png"
    Then the response status is 200
    And the response content type is "image/png"
    And the response body is a PNG image of 451 by 300 pixels
    And the response header "server-timing" is present

  Scenario: processing a stored photo and keeping the result
    When I POST JSON to "/v1/images/sample-chelsea:process":
      """
      {"filters": [{"name": "invert"}], "output": {"format": "IMAGE_FORMAT_PNG", "maxWidth": 100}, "save": true}
      """
    Then the response status is 200
    And the JSON field "contentType" is "image/png"
    And the JSON field "width" is 100
    And the result image is listed as "IMAGE_SOURCE_RESULT"

  Scenario: deleting my own upload
    When I upload the sample file "rocket.jpg" as "image/jpeg"
    And I delete the uploaded image
    Then the response status is 200
    When I GET the uploaded image
    Then the response status is 404
    And the error code is "not_found"

  Scenario: deleting a sample is forbidden
    When I send DELETE "/v1/images/sample-storm"
    Then the response status is 403
    And the error code is "permission_denied"
    When I GET "/v1/images/sample-storm"
    Then the response status is 200

  Scenario Outline: a corrupt upload is rejected and nothing is stored
    Given I note which images are listed
    When I upload <what> as "image/jpeg"
    Then the response status is <status>
    And the error code is "<code>"
    And no new image is listed

    Examples:
      | what                                   | status | code               |
      | an empty file                          | 400    | invalid_argument   |
      | a text file                            | 400    | invalid_argument   |
      | the first half of "rocket.jpg"         | 400    | invalid_argument   |
      | a PNG claiming 100000 by 100000 pixels | 413    | resource_exhausted |
